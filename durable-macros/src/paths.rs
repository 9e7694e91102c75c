//! The one place that builds the path to the runtime: `::durable_runtime`, or the `crate = "..."`
//! override.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;

/// The runtime's hidden module: `::durable_runtime::__private` or `<crate>::__private`.
pub(crate) fn private(krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::durable_runtime::__private),
    }
}

/// `tokens` with every span set to `span`, so that a generated call reads as written at `span`
/// (an unmet bound then points at the user's expression rather than at the attribute).
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
