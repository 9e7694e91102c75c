//! Routes every `.await` of a workflow body through `__private::durable(..)`, whose
//! `DurableOperation` bound makes awaiting anything but a durable operation a compile error that
//! points at the awaited expression.

use crate::determinism::workflow_parts_mut;
use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::Expr;

struct Wrapper<'a> {
    private: &'a TokenStream,
}

impl VisitMut for Wrapper<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some(parts) = workflow_parts_mut(expr) {
            return parts.into_iter().for_each(|part| self.visit_expr_mut(part));
        }
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Await(awaited) = expr {
            let base = &awaited.base;
            // Spanned on the awaited expression, so an unmet bound points at the user's expression.
            let span = base.span().resolved_at(Span::call_site());
            let private = crate::paths::respan(self.private.clone(), span);
            let wrapped = quote_spanned!(span=> #private::durable(#base));
            *awaited.base = Expr::Verbatim(wrapped);
        }
    }

    // Nested items are not the workflow body.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Rewrites the `.await`s of `block` in place.
pub(crate) fn wrap(block: &mut syn::Block, private: &TokenStream) {
    Wrapper { private }.visit_block_mut(block);
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{quote, ToTokens};

    fn rewrite(body: TokenStream) -> String {
        let mut block: syn::Block = match syn::parse2(quote!({ #body })) {
            Ok(b) => b,
            Err(e) => return format!("parse: {e}"),
        };
        wrap(&mut block, &quote!(p));
        block.into_token_stream().to_string()
    }

    #[test]
    fn wraps_every_await() {
        let out = rewrite(quote!(let a = step(x).await?; let f = async { g().await }; let c = || async { h().await };));
        assert_eq!(out.matches("p :: durable").count(), 3, "{out}");
        let nested = rewrite(quote!(outer(inner().await).await;));
        assert_eq!(nested.matches("p :: durable").count(), 2, "{nested}");
    }

    #[test]
    fn skips_opt_outs_and_items() {
        let out = rewrite(quote!(
            unchecked(async { io().await });
            ctx.step(|_| async { io().await });
            async fn helper() { io().await }
        ));
        assert_eq!(out.matches("p :: durable").count(), 0, "{out}");
        let outer = rewrite(quote!(unchecked(io()).await;));
        assert_eq!(outer.matches("p :: durable").count(), 1, "{outer}");
        let bodies = rewrite(quote!(
            ctx.compensate(name().await, |_| async { io().await });
            ctx.wait_for_callback(|id, _| async { send(id).await });
            ctx.wait_for_condition(state().await, |s, _| async { poll(s).await });
        ));
        assert_eq!(bodies.matches("p :: durable").count(), 2, "{bodies}");
    }
}
