//! Signature rules of both attributes. Every rule pushes into [`Errors`], so all are reported at once.

use crate::errors::Errors;
use syn::{FnArg, GenericParam, PatType, ReturnType, Signature, Type};

/// Rules shared by `#[durable_step]` and `#[durable_workflow]`.
fn common(sig: &Signature, attr: &str, errors: &mut Errors) {
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, format!("`#[{attr}]` functions must be `async`; write `async fn {}`", sig.ident));
    }
    if let Some(token) = &sig.constness {
        errors.spanned(token, format!("`#[{attr}]` functions cannot be `const`; remove `const`"));
    }
    if let Some(token) = &sig.unsafety {
        errors.spanned(token, format!("`#[{attr}]` functions cannot be `unsafe`; remove `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, format!("`#[{attr}]` functions cannot have an ABI; remove `{}`", quote::quote!(#abi)));
    }
    if let Some(param) = sig.generics.params.first() {
        let what = match param {
            GenericParam::Lifetime(_) => "lifetime parameters",
            GenericParam::Type(_) => "type parameters",
            GenericParam::Const(_) => "const parameters",
        };
        errors.spanned(
            param,
            format!("`#[{attr}]` functions cannot have {what}: the runtime records and replays concrete types; use concrete types"),
        );
    } else if let Some(clause) = &sig.generics.where_clause {
        errors.spanned(clause, format!("`#[{attr}]` functions cannot have a `where` clause; use concrete types"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, format!("`#[{attr}]` functions cannot be variadic"));
    }
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                format!(
                    "`#[{attr}]` functions cannot take `self`; write a free function and pass the value as an argument"
                ),
            ),
            FnArg::Typed(PatType { ty, .. }) => {
                if let Some(impl_trait) = find_impl_trait(ty) {
                    errors.spanned(
                        impl_trait,
                        format!("`#[{attr}]` arguments cannot be `impl Trait`: that is a hidden type parameter; use a concrete type"),
                    );
                }
            }
        }
    }
    if let ReturnType::Default = sig.output {
        errors.spanned(
            &sig.ident,
            format!("`#[{attr}]` functions must return `Result<T, E>`; add `-> Result<T, durable_runtime::Error>`"),
        );
    }
}

fn find_impl_trait(ty: &Type) -> Option<&Type> {
    match ty {
        Type::ImplTrait(_) => Some(ty),
        Type::Reference(r) => find_impl_trait(&r.elem),
        Type::Paren(p) => find_impl_trait(&p.elem),
        _ => None,
    }
}

/// Whether `ty` names `DurableContext` (by its last path segment), directly or behind a reference.
pub(crate) fn is_context(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_context(&r.elem),
        Type::Paren(p) => is_context(&p.elem),
        Type::Path(p) => p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "DurableContext"),
        _ => false,
    }
}

/// The rules of `#[durable_step]`.
pub(crate) fn check_step(sig: &Signature, errors: &mut Errors) {
    common(sig, "durable_step", errors);
    for arg in &sig.inputs {
        let FnArg::Typed(PatType { ty, .. }) = arg else { continue };
        if is_context(ty) {
            errors.spanned(
                ty,
                "a `#[durable_step]` cannot take a `DurableContext`: operations started inside a step are not \
                 recorded; make this function a `#[durable_workflow]` and call it as a sub-workflow",
            );
        } else if let Type::Reference(reference) = &**ty {
            if let Some(token) = &reference.mutability {
                let and = reference.and_token;
                errors.spanned(
                    quote::quote!(#and #token),
                    "a `#[durable_step]` cannot take `&mut`: writes made in a step are lost on replay, which returns \
                     only the recorded result; take the value and return the updated value instead",
                );
            } else if reference.lifetime.as_ref().is_none_or(|l| l.ident != "static") {
                errors.spanned(
                    reference.and_token,
                    "a `#[durable_step]` cannot borrow its arguments: the step runs when it is awaited and must own \
                     what it uses; take an owned value such as `String` or `Vec<T>`",
                );
            }
        }
    }
}

/// The rules of `#[durable_workflow]`. Returns the context argument and the input argument when the
/// shape is right.
pub(crate) fn check_workflow<'a>(sig: &'a Signature, errors: &mut Errors) -> Option<(&'a PatType, &'a PatType)> {
    common(sig, "durable_workflow", errors);
    let typed: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if typed.len() != sig.inputs.len() {
        return None;
    }
    let shape = "a `#[durable_workflow]` takes exactly two arguments, `ctx: DurableContext` and one input";
    match typed.as_slice() {
        [ctx, input] => {
            let mut ok = true;
            if let Type::Reference(r) = &*ctx.ty {
                if is_context(&ctx.ty) {
                    ok = false;
                    errors.spanned(
                        r.and_token,
                        "a `#[durable_workflow]` takes its `DurableContext` by value; write `ctx: DurableContext` \
                         (it is cheap to clone)",
                    );
                }
            }
            if !is_context(&ctx.ty) {
                ok = false;
                errors.spanned(&ctx.ty, "the first argument of a `#[durable_workflow]` must be `ctx: DurableContext`");
            }
            if is_context(&input.ty) {
                ok = false;
                errors.spanned(&input.ty, format!("{shape}; remove the second `DurableContext`"));
            } else if let Type::Reference(r) = &*input.ty {
                ok = false;
                errors.spanned(
                    r.and_token,
                    "the input of a `#[durable_workflow]` is deserialized from the execution's input and must be \
                     owned; take `T` instead of `&T`",
                );
            }
            ok.then_some((*ctx, *input))
        }
        [] | [_] => {
            let message = format!("{shape}; take `()` as the input if there is none");
            if sig.inputs.is_empty() {
                errors.spanned(&sig.ident, message);
            } else {
                errors.spanned(&sig.inputs, message);
            }
            None
        }
        [_, _, third, ..] => {
            errors.spanned(third, format!("{shape}; bundle several inputs into one `Deserialize` struct"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn step_errors(item: proc_macro2::TokenStream) -> Vec<String> {
        let func: syn::ItemFn = match syn::parse2(item) {
            Ok(f) => f,
            Err(e) => return vec![format!("parse: {e}")],
        };
        let mut errors = Errors::default();
        check_step(&func.sig, &mut errors);
        errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect()
    }

    fn workflow_errors(item: proc_macro2::TokenStream) -> Vec<String> {
        let func: syn::ItemFn = match syn::parse2(item) {
            Ok(f) => f,
            Err(e) => return vec![format!("parse: {e}")],
        };
        let mut errors = Errors::default();
        let _ = check_workflow(&func.sig, &mut errors);
        errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect()
    }

    #[test]
    fn good_signatures_pass() {
        assert!(step_errors(quote!(
            async fn a(x: u32, s: String, t: &'static str) -> Result<u32, E> {}
        ))
        .is_empty());
        assert!(workflow_errors(quote!(
            async fn w(ctx: DurableContext, i: Order) -> Result<u32, E> {}
        ))
        .is_empty());
        assert!(workflow_errors(quote!(
            pub async fn w(_: durable_runtime::DurableContext, (): ()) -> R {}
        ))
        .is_empty());
    }

    #[test]
    fn errors_accumulate() {
        let errors = step_errors(quote!(
            fn a<T>(x: &mut T, c: DurableContext, s: &str) {}
        ));
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].contains("must be `async`"));
        assert!(errors[1].contains("type parameters"));
        assert!(errors[2].contains("`Result<T, E>`"));
        assert!(errors[3].contains("`&mut`"));
        assert!(errors[4].contains("`DurableContext`"));
        assert!(errors[5].contains("cannot borrow"));
    }

    #[test]
    fn workflow_shapes() {
        assert!(workflow_errors(quote!(
            async fn w(ctx: DurableContext) -> R {}
        ))[0]
            .contains("exactly two"));
        assert!(workflow_errors(quote!(
            async fn w(ctx: DurableContext, a: A, b: B) -> R {}
        ))[0]
            .contains("bundle"));
        assert!(workflow_errors(quote!(
            async fn w(ctx: &DurableContext, a: A) -> R {}
        ))[0]
            .contains("by value"));
        assert!(
            workflow_errors(quote!(
                async fn w(a: A, ctx: DurableContext) -> R {}
            ))
            .len()
                == 2
        );
        assert!(workflow_errors(quote!(
            async fn w(self, a: A) -> R {}
        ))[0]
            .contains("`self`"));
    }
}
