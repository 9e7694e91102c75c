//! `#[durable_step]`: the function becomes a plain `fn` returning `StepCall`, a step named at compile
//! time whose `IntoFuture` binds to the workflow context it is awaited in.

use crate::args::{Args, StepArgs};
use crate::errors::{expand_fn_item, Errors};
use crate::{paths, signature};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

/// Expands `#[durable_step(args)] item`; on error, the item untouched plus the errors.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_fn_item(item, |func| expand_fn(args, func))
}

fn expand_fn(args: TokenStream, func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = errors.take(StepArgs::parse_tokens(args)).unwrap_or_default();
    signature::check_step(&func.sig, &mut errors);
    errors.finish()?;

    let private = paths::private(args.krate.as_ref());
    let ItemFn { attrs, vis, sig, block } = func;
    let ReturnType::Type(_, ret) = &sig.output else {
        return Err(syn::Error::new_spanned(&sig.ident, "`#[durable_step]` functions must return `Result<T, E>`"));
    };
    let name = match &args.name {
        Some(lit) => lit.clone(),
        None => syn::LitStr::new(&sig.ident.to_string(), sig.ident.span()),
    };
    let mut call = quote!(#private::StepCall::<#ret>::new(#name, async move #block));
    if let Some(retry) = &args.retry {
        let strategy = retry.to_tokens(&private);
        call.extend(quote!(.retry(#strategy)));
    }
    if let Some(semantics) = args.semantics {
        let semantics = semantics.to_tokens(&private);
        call.extend(quote!(.semantics(#semantics)));
    }
    if let Some(undo) = &args.compensate {
        call.extend(quote_spanned! {undo.span()=>
            .compensate(|__durable_out| #undo(::core::clone::Clone::clone(__durable_out)))
        });
    }
    let asserts = result_asserts(ret, &private, "step");
    let syn::Signature { ident, inputs, .. } = &sig;
    Ok(quote! {
        #(#attrs)*
        #vis fn #ident(#inputs) -> #private::StepCall<#ret> {
            #call
        }
        #asserts
    })
}

/// `const _: () = { .. };` with the trait assertions on the output and error types, each spanned on
/// the user's type: `assert_body_result` on the return type, and `output_assert` and
/// `assert_body_error` on `T` and `E` when the return type is written `..Result<T, E>`.
pub(crate) fn result_asserts(ret: &Type, private: &TokenStream, kind: &str) -> TokenStream {
    let ser = syn::Ident::new(&format!("assert_{kind}_output_serialize"), Span::call_site());
    let de = syn::Ident::new(&format!("assert_{kind}_output_deserialize"), Span::call_site());
    let mut asserts = quote_spanned!(ret.span()=> #private::assert_body_result::<#ret>(););
    if let Some((ok, err)) = result_parts(ret) {
        asserts.extend(quote_spanned!(ok.span()=> #private::#ser::<#ok>(); #private::#de::<#ok>();));
        if let Some(err) = err {
            asserts.extend(quote_spanned!(err.span()=> #private::assert_body_error::<#err>();));
        }
    }
    quote!(const _: () = { #asserts };)
}

/// `T` and `E` of a return type written `Result<T, E>` or `some::Result<T>`.
fn result_parts(ty: &Type) -> Option<(&Type, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let ok = types.next()?;
    Some((ok, types.next()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_to_a_step_call() {
        let out = expand(
            quote!(name = "charge-card", retry = none),
            quote!(
                pub async fn charge(order: Order) -> Result<Receipt, Error> {
                    Ok(pay(order))
                }
            ),
        )
        .to_string();
        assert!(out.contains("pub fn charge (order : Order) -> :: durable_runtime :: __private :: StepCall < Result < Receipt , Error > >"), "{out}");
        assert!(out.contains("\"charge-card\""), "{out}");
        assert!(out.contains("RetryStrategy :: none ()"), "{out}");
        assert!(out.contains("assert_step_output_serialize :: < Receipt >"), "{out}");
        assert!(out.contains("assert_body_error :: < Error >"), "{out}");
    }

    #[test]
    fn error_reemits_the_item() {
        let out = expand(
            quote!(bogus = 1),
            quote!(
                async fn charge() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(out.starts_with("async fn charge"), "{out}");
        assert!(out.contains("compile_error"), "{out}");
    }

    #[test]
    fn renamed_crate() {
        let out = expand(
            quote!(crate = "rt"),
            quote!(
                async fn a() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(out.contains("rt :: __private :: StepCall"), "{out}");
        assert!(!out.contains("durable_runtime"), "{out}");
    }
}
