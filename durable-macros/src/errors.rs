//! An accumulator of independent errors, so that one compile reports them all (serde's `Ctxt`).

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

/// Collects errors; [`Errors::finish`] turns them into one `syn::Result`.
#[derive(Default)]
#[must_use = "call `finish` to report the collected errors"]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Adds an error spanned on `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Adds the error of `result`, if any.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
    }

    /// `Err` with every collected error combined, or `Ok` when there is none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.first {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Parses `item` as a function and expands it with `expand`; on any error, the item untouched plus
/// the error (see [`with_item`]).
pub(crate) fn expand_fn_item(
    item: TokenStream,
    expand: impl FnOnce(syn::ItemFn) -> syn::Result<TokenStream>,
) -> TokenStream {
    match syn::parse2(item.clone()).and_then(expand) {
        Ok(tokens) => tokens,
        Err(error) => with_item(item, error),
    }
}

/// The user's item, untouched, followed by `error` (tokio's `token_stream_with_error`): one mistake
/// gives one message, and the item stays visible to callers and the IDE.
pub(crate) fn with_item(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(error.into_compile_error());
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn combines_in_order() {
        let mut errors = Errors::default();
        errors.push(syn::Error::new(Span::call_site(), "first"));
        errors.push(syn::Error::new(Span::call_site(), "second"));
        let messages: Vec<String> = errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn empty_is_ok() {
        assert!(Errors::default().finish().is_ok());
    }
}
