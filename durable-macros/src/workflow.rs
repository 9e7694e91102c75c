//! `#[durable_workflow]`: the function becomes a plain `fn` returning `WorkflowCall`, which runs the
//! body directly when the runtime calls it as the handler, and as a named child context when it is
//! awaited inside another workflow. The body is checked against the determinism rules and every
//! `.await` in it must be a durable operation.

use crate::args::{Args, WorkflowArgs};
use crate::errors::{expand_fn_item, Errors};
use crate::step::result_asserts;
use crate::{awaits, determinism, paths, signature, typed_rules};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

/// Expands `#[durable_workflow(args)] item`; on error, the item untouched plus the errors.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_fn_item(item, |func| expand_fn(args, func))
}

fn expand_fn(args: TokenStream, func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = errors.take(WorkflowArgs::parse_tokens(args)).unwrap_or_default();
    let parts = signature::check_workflow(&func.sig, &mut errors);
    determinism::check(&func.block, &mut errors);
    errors.finish()?;
    let (Some((ctx, input)), ReturnType::Type(_, ret)) = (parts, &func.sig.output) else {
        return Err(syn::Error::new_spanned(&func.sig, "`#[durable_workflow]` has an unsupported signature"));
    };

    let private = paths::private(args.krate.as_ref());
    let mut block = (*func.block).clone();
    typed_rules::insert_checks(&mut block, &private);
    awaits::wrap(&mut block, &private);
    let ItemFn { attrs, vis, sig, .. } = &func;
    let ident = &sig.ident;
    let name = match &args.name {
        Some(lit) => lit.clone(),
        None => syn::LitStr::new(&ident.to_string(), ident.span()),
    };
    let (ctx_pat, ctx_ty) = (&ctx.pat, &ctx.ty);
    let ctx_arg = syn::Ident::new("__durable_ctx", Span::mixed_site());
    let input_ty = &input.ty;
    let input_assert = quote_spanned!(input_ty.span()=> #private::assert_workflow_input::<#input_ty>(););
    let asserts = result_asserts(ret, &private, "workflow");
    Ok(quote! {
        #(#attrs)*
        #vis fn #ident(#ctx_arg: #ctx_ty, #input) -> #private::WorkflowCall<#ret> {
            #private::WorkflowCall::<#ret>::new(#name, #ctx_arg, move |#ctx_pat: #ctx_ty| async move #block)
        }
        const _: () = { #input_assert };
        #asserts
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_to_a_workflow_call() {
        let out = expand(
            quote!(),
            quote!(
                async fn place(ctx: DurableContext, order: Order) -> Result<Receipt, Error> {
                    let r = charge(order).await?;
                    Ok(r)
                }
            ),
        )
        .to_string();
        assert!(out.contains("fn place (__durable_ctx : DurableContext , order : Order)"), "{out}");
        assert!(out.contains("WorkflowCall :: < Result < Receipt , Error > > :: new (\"place\""), "{out}");
        assert!(out.contains("durable (charge (order)) . await"), "{out}");
        assert!(out.contains("assert_workflow_input :: < Order >"), "{out}");
    }

    #[test]
    fn checks_run_together() {
        let out = expand(
            quote!(nope = 1),
            quote!(
                fn place(ctx: DurableContext, order: Order) -> Result<(), Error> {
                    let t = std::time::Instant::now();
                    Ok(())
                }
            ),
        )
        .to_string();
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
    }
}
