//! The workflow-body rules that depend on types, which the macro cannot see. For each expression a
//! rule applies to, the macro inserts before its statement an `if false { .. }` block that names the
//! expression through a `__private` check wrapper; method resolution picks a method whose bound
//! fails, with the rule's message, only for the types the rule is about. Nothing runs.
//!
//! - **Hash order.** Every `for` loop and iterating method call (`iter`, `keys`, `values`,
//!   `into_iter`, `drain`, ...) is checked with `OrderCheck`: iterating a `HashMap`, a `HashSet` or
//!   one of their iterators is an error, because hash order changes from one process to the next,
//!   so a loop that starts operations can start them in another order on replay. Lookups (`get`,
//!   `contains_key`, `len`, `insert`) are not iteration.
//! - **Process-global state.** Every method call on a `SCREAMING_CASE` path (a static, by Rust's
//!   naming convention) is checked with `GlobalCheck`: atomics, `Mutex`, `RwLock`, `OnceLock`,
//!   `LazyLock` and `thread_local!` keys are errors, because a warm Lambda process keeps them between
//!   invocations and replay does not restore them.
//!
//! Anything inside `unchecked(..)` and the step bodies of builder calls (`ctx.step(..)`, see
//! `determinism::workflow_parts`) is skipped.

use crate::determinism::{workflow_parts, workflow_parts_mut};
use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt};

/// Methods that iterate their receiver (of `HashMap`, `HashSet` and most collections).
const ITERATING_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "keys",
    "values",
    "values_mut",
    "into_iter",
    "into_keys",
    "into_values",
    "drain",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
];

fn is_iterating_call(expr: &Expr) -> bool {
    matches!(expr, Expr::MethodCall(m) if ITERATING_METHODS.iter().any(|name| m.method == name))
}

/// `&x`, `&mut x` and `(x)` as `x`.
fn strip(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Reference(r) => expr = &r.expr,
            Expr::Paren(p) => expr = &p.expr,
            _ => return expr,
        }
    }
}

/// A place expression (`orders`, `self.orders`, `batches[i]`, `*orders`): naming it in a check takes
/// a reference and moves nothing. Other expressions (calls) are not checked, since naming them again
/// would move their arguments; bind such a value to a variable to have it checked.
fn is_place(expr: &Expr) -> bool {
    match expr {
        Expr::Path(_) => true,
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr) && matches!(&*i.index, Expr::Path(_) | Expr::Lit(_)),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is_place(&u.expr),
        Expr::Paren(p) => is_place(&p.expr),
        _ => false,
    }
}

/// A path that names a static by Rust's naming convention: its last segment is `SCREAMING_CASE`.
fn is_static_path(expr: &Expr) -> bool {
    let Expr::Path(path) = expr else { return false };
    let Some(last) = path.path.segments.last() else { return false };
    let name = last.ident.to_string();
    name.len() > 1
        && name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Which check an expression gets.
#[derive(Clone, Copy)]
enum Check {
    /// Iterated: not in hash order.
    Order,
    /// The receiver of a method call on a static: not process-global mutable state.
    Global,
}

/// The checked expressions of one statement, without descending into what has its own scope
/// (blocks, closures, match arms, async blocks, nested items): those are checked where they are.
#[derive(Default)]
struct Iterated<'ast> {
    found: Vec<(Check, &'ast Expr)>,
}

impl<'ast> Visit<'ast> for Iterated<'ast> {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if let Some(parts) = workflow_parts(expr) {
            return parts.into_iter().for_each(|part| self.visit_expr(part));
        }
        if let Expr::MethodCall(m) = expr {
            if is_iterating_call(expr) && is_place(strip(&m.receiver)) {
                self.found.push((Check::Order, strip(&m.receiver)));
            }
            if is_static_path(strip(&m.receiver)) {
                self.found.push((Check::Global, strip(&m.receiver)));
            }
        }
        visit::visit_expr(self, expr);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        // `for x in map.iter()` is reported once, on `map`, by the method rule.
        if !is_iterating_call(strip(&expr.expr)) && is_place(strip(&expr.expr)) {
            self.found.push((Check::Order, strip(&expr.expr)));
        }
        self.visit_expr(&expr.expr);
    }

    fn visit_block(&mut self, _: &'ast syn::Block) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_arm(&mut self, _: &'ast syn::Arm) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_macro(&mut self, _: &'ast syn::Macro) {}
}

fn iterated(stmt: &Stmt) -> Vec<(Check, &Expr)> {
    let mut visitor = Iterated::default();
    visitor.visit_stmt(stmt);
    visitor.found
}

fn iterated_in(expr: &Expr) -> bool {
    let mut visitor = Iterated::default();
    visitor.visit_expr(expr);
    !visitor.found.is_empty()
}

struct Inserter<'a> {
    private: &'a TokenStream,
}

impl Inserter<'_> {
    /// The check of `expr`, spanned on it so that the error points at the user's expression.
    fn check(&self, (check, expr): (Check, &Expr)) -> TokenStream {
        let span = expr.span().resolved_at(Span::call_site());
        let private = crate::paths::respan(self.private.clone(), span);
        match check {
            Check::Order => quote_spanned! {span=>
                (&&#private::OrderCheck(&(#expr))).durable_iteration_order();
            },
            Check::Global => quote_spanned! {span=>
                (&&#private::GlobalCheck(&(#expr))).durable_global_state();
            },
        }
    }

    /// `expr` as a block `{ expr }` when it iterates something, so that its checks have a place.
    fn blockify(expr: &mut Expr) {
        if !matches!(expr, Expr::Block(_)) && iterated_in(expr) {
            let inner = std::mem::replace(expr, Expr::Verbatim(TokenStream::new()));
            *expr = syn::parse_quote!({ #inner });
        }
    }
}

impl VisitMut for Inserter<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        visit_mut::visit_block_mut(self, block);
        let private = self.private;
        let mut stmts = Vec::with_capacity(block.stmts.len());
        for stmt in std::mem::take(&mut block.stmts) {
            let checks: Vec<TokenStream> = iterated(&stmt).into_iter().map(|c| self.check(c)).collect();
            if !checks.is_empty() {
                stmts.push(syn::parse_quote! {
                    if false {
                        #[allow(unused_imports)]
                        use #private::{AnyOrder as _, AnyState as _, GlobalState as _, HashOrder as _};
                        #(#checks)*
                    }
                });
            }
            stmts.push(stmt);
        }
        block.stmts = stmts;
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some(parts) = workflow_parts_mut(expr) {
            return parts.into_iter().for_each(|part| self.visit_expr_mut(part));
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_expr_closure_mut(&mut self, closure: &mut syn::ExprClosure) {
        Self::blockify(&mut closure.body);
        visit_mut::visit_expr_closure_mut(self, closure);
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        Self::blockify(&mut arm.body);
        visit_mut::visit_arm_mut(self, arm);
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Inserts the typed checks into `block` (see the module docs).
pub(crate) fn insert_checks(block: &mut syn::Block, private: &TokenStream) {
    Inserter { private }.visit_block_mut(block);
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
        insert_checks(&mut block, &quote!(p));
        block.into_token_stream().to_string()
    }

    fn checks(body: TokenStream) -> usize {
        rewrite(body).matches("OrderCheck").count()
    }

    #[test]
    fn every_iteration_gets_one_check() {
        assert_eq!(
            checks(quote!(for (k, v) in &orders {
                ship(k).await;
            })),
            1
        );
        assert_eq!(
            checks(quote!(for k in orders.keys() {
                ship(k).await;
            })),
            1
        );
        assert_eq!(checks(quote!(let ids: Vec<_> = orders.into_iter().map(|(k, _)| k).collect();)), 1);
        assert_eq!(checks(quote!(let n = items.iter().filter(|m| m.values().count() > 1).count();)), 2);
        assert_eq!(checks(quote!(match x { Some(m) => m.keys().count(), None => 0 };)), 1);
        assert_eq!(
            checks(quote!(if ok {
                for k in set.drain() {}
            })),
            1
        );
    }

    #[test]
    fn checks_stand_before_their_statement_in_scope() {
        let out = rewrite(quote!(let m = load().await; for k in m.keys() { ship(k).await; }));
        let check = out.find("OrderCheck").unwrap_or(0);
        assert!(out.find("let m").unwrap_or(usize::MAX) < check, "{out}");
        let closure = rewrite(quote!(let f = |m: &Map| m.keys().count();));
        assert!(closure.contains("| { if false"), "{closure}");
    }

    #[test]
    fn method_calls_on_statics_are_checked() {
        let out = rewrite(quote!(let n = COUNTER.fetch_add(1, Ordering::SeqCst); CACHE.with(|c| c.get());));
        assert_eq!(out.matches("GlobalCheck").count(), 2, "{out}");
        assert_eq!(rewrite(quote!(let n = counter.load(o); let m = Self::X.len();)).matches("GlobalCheck").count(), 0);
        assert_eq!(rewrite(quote!(let n = crate::LIMITS.get(0);)).matches("GlobalCheck").count(), 1);
    }

    #[test]
    fn lookups_and_opt_outs_are_not_checked() {
        assert_eq!(checks(quote!(let v = orders.get(&id); let n = orders.len(); orders.insert(1, 2);)), 0);
        // A call is not named again (that would move its arguments); places are.
        assert_eq!(checks(quote!(for x in load(input) {} for k in build(input).keys() {})), 0);
        assert_eq!(checks(quote!(for x in &self.orders {} for k in batches[0].keys() {} for v in *m {})), 3);
        assert_eq!(checks(quote!(let keys = unchecked(orders.keys().count());)), 0);
        assert_eq!(checks(quote!(ctx.step(move |_| async move { for k in m.keys() {} Ok(()) }).await?;)), 0);
        assert_eq!(
            checks(quote!(
                fn helper(m: &Map) -> usize {
                    m.keys().count()
                }
            )),
            0
        );
    }
}
