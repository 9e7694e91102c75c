//! The workflow-body rules: one table, one visitor.
//!
//! A workflow body runs again on every replay, so it may only compute from its input and from the
//! results of durable operations. Each rule below names something that gives a different answer on
//! replay, and says where it belongs instead. The visitor walks the body, closures and async blocks
//! included, and skips what is reviewed or not workflow code: the arguments of `unchecked(..)`, the body
//! passed to a builder that runs it as a step (`ctx.step`, `compensate`, the `wait_for_callback`
//! submitter, the `wait_for_condition` check), and nested items (functions, impls), which are not the body.
//!
//! Matching is lexical, on path segments, so that look-alikes (a user's own `now()`, a field named
//! `spawn`, `Vec`, `BTreeMap`) never match: a rule matches a suffix such as `Instant::now`, a prefix such
//! as `std::fs`, or a name distinctive enough to stand alone such as `thread_rng`.

use crate::errors::Errors;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

/// How a rule matches the segments of a path (a leading `::` is ignored).
enum Pattern {
    /// The path ends with these segments.
    Suffix(&'static [&'static str]),
    /// The path starts with these segments and has at least one more.
    Prefix(&'static [&'static str]),
}

/// One determinism rule: what it matches and what it says (the problem, then the fix).
struct Rule {
    patterns: &'static [Pattern],
    message: &'static str,
}

use Pattern::{Prefix, Suffix};

const CLOCK_FIX: &str = "use `ctx.now().await?`, which records the time once, or read it in a `#[durable_step]`";
const RAND_FIX: &str = "use `ctx.random_u64().await?`, which records the value once, or draw it in a `#[durable_step]`";
const UUID_FIX: &str = "use `ctx.uuid().await?`, which records the id once, or create it in a `#[durable_step]`";

/// The table of path rules, checked in order; the first match reports.
const RULES: &[Rule] = &[
    Rule {
        patterns: &[Suffix(&["SystemTime", "now"])],
        message: "`SystemTime::now` in a `#[durable_workflow]` reads the clock, which changes on replay",
    },
    Rule {
        patterns: &[Suffix(&["Instant", "now"])],
        message: "`Instant::now` in a `#[durable_workflow]` reads the clock, which changes on replay",
    },
    Rule {
        patterns: &[Suffix(&["Utc", "now"]), Suffix(&["Local", "now"])],
        message: "`chrono`'s `now` in a `#[durable_workflow]` reads the clock, which changes on replay",
    },
    Rule {
        patterns: &[Suffix(&["OffsetDateTime", "now_utc"]), Suffix(&["OffsetDateTime", "now_local"])],
        message: "`OffsetDateTime::now_utc` in a `#[durable_workflow]` reads the clock, which changes on replay",
    },
    Rule {
        patterns: &[Suffix(&["rand", "random"]), Suffix(&["rand", "rng"]), Suffix(&["thread_rng"])],
        message: "`rand`'s generators in a `#[durable_workflow]` give different values on replay",
    },
    Rule {
        patterns: &[Suffix(&["OsRng"])],
        message: "`OsRng` in a `#[durable_workflow]` gives different values on replay",
    },
    Rule {
        patterns: &[Prefix(&["fastrand"])],
        message: "`fastrand` in a `#[durable_workflow]` gives different values on replay",
    },
    Rule {
        patterns: &[
            Suffix(&["Uuid", "new_v4"]),
            Suffix(&["Uuid", "now_v7"]),
            Suffix(&["Uuid", "now_v6"]),
            Suffix(&["Uuid", "now_v1"]),
        ],
        message: "a random or time-based `Uuid` in a `#[durable_workflow]` is different on replay",
    },
    Rule {
        patterns: &[
            Prefix(&["std", "env"]),
            Suffix(&["env", "var"]),
            Suffix(&["env", "var_os"]),
            Suffix(&["env", "vars"]),
            Suffix(&["env", "args"]),
        ],
        message: "`std::env` in a `#[durable_workflow]` reads the environment, which may change between replays; \
                  read it in a `#[durable_step]`, or before the workflow starts",
    },
    Rule {
        patterns: &[
            Prefix(&["std", "fs"]),
            Prefix(&["tokio", "fs"]),
            Suffix(&["File", "open"]),
            Suffix(&["File", "create"]),
        ],
        message: "file-system access in a `#[durable_workflow]` runs again on every replay; \
                  move it into a `#[durable_step]`",
    },
    Rule {
        patterns: &[
            Prefix(&["std", "net"]),
            Prefix(&["tokio", "net"]),
            Suffix(&["TcpStream", "connect"]),
            Suffix(&["TcpListener", "bind"]),
            Suffix(&["UdpSocket", "bind"]),
        ],
        message:
            "network access in a `#[durable_workflow]` runs again on every replay; move it into a `#[durable_step]`",
    },
    Rule {
        patterns: &[Prefix(&["std", "process"]), Prefix(&["process", "Command"]), Suffix(&["process", "exit"])],
        message:
            "`std::process` in a `#[durable_workflow]` runs again on every replay; move it into a `#[durable_step]`",
    },
    Rule {
        patterns: &[Suffix(&["thread", "spawn"]), Suffix(&["thread", "scope"])],
        message: "`std::thread::spawn` in a `#[durable_workflow]` runs work outside the replayed control flow; \
                  move the work into a `#[durable_step]`",
    },
    Rule {
        patterns: &[Suffix(&["thread", "sleep"])],
        message: "`std::thread::sleep` in a `#[durable_workflow]` blocks the invocation and is not durable; \
                  use `ctx.wait(duration).await`",
    },
    Rule {
        patterns: &[
            Suffix(&["tokio", "spawn"]),
            Suffix(&["task", "spawn"]),
            Suffix(&["task", "spawn_local"]),
            Suffix(&["spawn_blocking"]),
        ],
        message: "`tokio::spawn` in a `#[durable_workflow]` runs work outside the replayed control flow; \
                  run work side by side with `ctx.map(..)` or `ctx.parallel()`, or await a `#[durable_step]`",
    },
    Rule {
        patterns: &[
            Suffix(&["time", "sleep"]),
            Suffix(&["time", "sleep_until"]),
            Suffix(&["time", "timeout"]),
            Suffix(&["time", "timeout_at"]),
            Suffix(&["time", "interval"]),
            Suffix(&["time", "interval_at"]),
        ],
        message: "`tokio::time` in a `#[durable_workflow]` is not durable: the timer restarts on every replay; \
                  use `ctx.wait(duration).await`",
    },
];

/// Macro rules: `tokio::select!`, `futures::select!`.
const SELECT_MESSAGE: &str = "`select!` in a `#[durable_workflow]` picks whichever future finishes first, which \
                              can differ on replay; await the operations one after another";
const STATIC_MUT_MESSAGE: &str = "a `static mut` in a `#[durable_workflow]` is state that replay does not restore; \
                                  keep state in local variables computed from durable results";
const GLOBAL_STATE_MESSAGE: &str = "process-global state (a static atomic, lock, cell or `thread_local!`) in a \
                                     `#[durable_workflow]` survives between invocations of a warm Lambda process and \
                                     is not restored on replay; keep state in local variables computed from the \
                                     input and from durable results";
/// Type names whose statics are process-global mutable state.
const INTERIOR_MUTABLE: &[&str] =
    &["Atomic", "Mutex", "RwLock", "Cell", "RefCell", "OnceCell", "OnceLock", "LazyLock", "Lazy"];
const UNSAFE_MESSAGE: &str = "`unsafe` in a `#[durable_workflow]` (needed to touch a mutable static) reaches state \
                              that replay does not restore; move it into a `#[durable_step]`";

fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn matches(pattern: &Pattern, segs: &[String]) -> bool {
    match pattern {
        Suffix(suffix) => {
            segs.len() >= suffix.len() && segs[segs.len() - suffix.len()..].iter().zip(*suffix).all(|(a, b)| a == b)
        }
        Prefix(prefix) => segs.len() > prefix.len() && segs.iter().zip(*prefix).all(|(a, b)| a == b),
    }
}

/// The message of the first rule matching `segs`, with its fix.
pub(crate) fn rule_for(segs: &[String]) -> Option<String> {
    let rule = RULES.iter().find(|rule| rule.patterns.iter().any(|p| matches(p, segs)))?;
    let fix = if rule.message.contains("reads the clock") {
        Some(CLOCK_FIX)
    } else if rule.message.contains("different values") {
        Some(RAND_FIX)
    } else if rule.message.contains("`Uuid`") {
        Some(UUID_FIX)
    } else {
        None
    };
    Some(match fix {
        Some(fix) => format!("{}; {fix}", rule.message),
        None => rule.message.to_owned(),
    })
}

/// Whether `expr` is a call of `unchecked(..)` (any path ending in `unchecked`): the reviewed opt-out.
fn is_unchecked_call(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => {
            matches!(&*call.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "unchecked"))
        }
        _ => false,
    }
}

/// Builder methods with an argument that runs as a step (checkpointed, run once, not replayed), and
/// that argument's position: `ctx.step(body)`, `ctx.compensate(name, body)`,
/// `ctx.wait_for_callback(submitter)`, `ctx.wait_for_condition(state, check)`.
const STEP_BODY_ARGS: &[(&str, usize)] =
    &[("step", 0), ("compensate", 1), ("wait_for_callback", 0), ("wait_for_condition", 1)];

/// The position of the argument of `expr` that is step code rather than workflow code, when `expr`
/// is one of the builder calls of [`STEP_BODY_ARGS`]. Its body may do I/O; the receiver and the other
/// arguments are still workflow code.
fn step_body_arg(expr: &Expr) -> Option<usize> {
    let Expr::MethodCall(m) = expr else { return None };
    STEP_BODY_ARGS.iter().find(|(name, _)| m.method == name).map(|(_, index)| *index)
}

/// When only parts of `expr` are workflow code, those parts: none for `unchecked(..)`, the receiver
/// and the other arguments for a builder call with a step body. `None` when all of `expr` is workflow
/// code, to be visited as usual. Every visitor of the body skips the same things through this.
pub(crate) fn workflow_parts(expr: &Expr) -> Option<Vec<&Expr>> {
    if is_unchecked_call(expr) {
        return Some(Vec::new());
    }
    let body = step_body_arg(expr)?;
    let Expr::MethodCall(m) = expr else { return None };
    let others = m.args.iter().enumerate().filter(|(i, _)| *i != body).map(|(_, arg)| arg);
    Some(std::iter::once(&*m.receiver).chain(others).collect())
}

/// [`workflow_parts`], for a visitor that rewrites the body.
pub(crate) fn workflow_parts_mut(expr: &mut Expr) -> Option<Vec<&mut Expr>> {
    if is_unchecked_call(expr) {
        return Some(Vec::new());
    }
    let body = step_body_arg(expr)?;
    let Expr::MethodCall(m) = expr else { return None };
    let others = m.args.iter_mut().enumerate().filter(|(i, _)| *i != body).map(|(_, arg)| arg);
    Some(std::iter::once(&mut *m.receiver).chain(others).collect())
}

struct Checker<'a> {
    errors: &'a mut Errors,
}

impl Checker<'_> {
    fn path(&mut self, path: &syn::Path) {
        if let Some(message) = rule_for(&segments(path)) {
            self.errors.spanned(path, message);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, &n.ident),
            syn::UseTree::Rename(r) => self.use_leaf(prefix, &r.ident),
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(prefix, t)),
        }
    }

    fn use_leaf(&mut self, prefix: &[String], ident: &syn::Ident) {
        let mut segs = prefix.to_vec();
        segs.push(ident.to_string());
        // An import is flagged when the imported path or anything under it matches (`use std::fs;`).
        segs.push(String::new());
        let with_child = rule_for(&segs);
        segs.pop();
        if let Some(message) = rule_for(&segs).or(with_child) {
            self.errors.push(syn::Error::new(ident.span(), message));
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if let Some(parts) = workflow_parts(expr) {
            return parts.into_iter().for_each(|part| self.visit_expr(part));
        }
        visit::visit_expr(self, expr);
    }

    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        self.path(&expr.path);
        visit::visit_expr_path(self, expr);
    }

    fn visit_expr_struct(&mut self, expr: &'ast syn::ExprStruct) {
        self.path(&expr.path);
        visit::visit_expr_struct(self, expr);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let last = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if last == "select" || last == "select_biased" {
            self.errors.spanned(&mac.path, SELECT_MESSAGE);
            return;
        }
        if last == "thread_local" {
            self.errors.spanned(&mac.path, GLOBAL_STATE_MESSAGE);
            return;
        }
        // Look inside expression-like macros (`println!`, `format!`, `vec!`, `assert!`, ...).
        if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            args.iter().for_each(|arg| self.visit_expr(arg));
        }
    }

    fn visit_expr_unsafe(&mut self, expr: &'ast syn::ExprUnsafe) {
        self.errors.push(syn::Error::new(expr.unsafe_token.span, UNSAFE_MESSAGE));
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Static(s) if matches!(s.mutability, syn::StaticMutability::Mut(_)) => {
                let (token, mutability) = (&s.static_token, &s.mutability);
                self.errors.spanned(quote::quote!(#token #mutability), STATIC_MUT_MESSAGE);
            }
            syn::Item::Static(s) if is_interior_mutable(&s.ty) => {
                self.errors.spanned(s.static_token, GLOBAL_STATE_MESSAGE);
            }
            syn::Item::Macro(m) => self.visit_macro(&m.mac),
            syn::Item::Use(u) => self.use_tree(&mut Vec::new(), &u.tree),
            // Other nested items are not the workflow body.
            _ => {}
        }
    }
}

/// Whether a static's type is one of the interior-mutable types (`AtomicU64`, `Mutex<..>`, ...).
fn is_interior_mutable(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    path.path.segments.last().is_some_and(|s| {
        let name = s.ident.to_string();
        INTERIOR_MUTABLE.iter().any(|m| name == *m || (*m == "Atomic" && name.starts_with("Atomic")))
    })
}

/// Checks a workflow body against the table, pushing one error per violation.
pub(crate) fn check(block: &syn::Block, errors: &mut Errors) {
    Checker { errors }.visit_block(block);
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn violations(body: proc_macro2::TokenStream) -> Vec<String> {
        let block: syn::Block = match syn::parse2(quote!({ #body })) {
            Ok(b) => b,
            Err(e) => return vec![format!("parse: {e}")],
        };
        let mut errors = Errors::default();
        check(&block, &mut errors);
        errors.finish().err().into_iter().flatten().map(|e| e.to_string()).collect()
    }

    #[test]
    fn each_rule_fires() {
        let cases = [
            quote!(let t = std::time::SystemTime::now();),
            quote!(let t = SystemTime::now();),
            quote!(let t = Instant::now();),
            quote!(let t = chrono::Utc::now();),
            quote!(let t = Local::now();),
            quote!(let t = time::OffsetDateTime::now_utc();),
            quote!(let x: u8 = rand::random();),
            quote!(let r = rand::thread_rng();),
            quote!(let r = thread_rng();),
            quote!(let r = rand::rng();),
            quote!(let r = OsRng;),
            quote!(let r = fastrand::u32(..);),
            quote!(let id = uuid::Uuid::new_v4();),
            quote!(let id = Uuid::now_v7();),
            quote!(let v = std::env::var("X");),
            quote!(let v = env::var("X");),
            quote!(let v = std::fs::read("x");),
            quote!(let v = std::net::TcpStream::connect("x");),
            quote!(let v = std::process::Command::new("ls");),
            quote!(std::thread::spawn(|| ());),
            quote!(std::thread::sleep(d);),
            quote!(tokio::spawn(async {});),
            quote!(tokio::task::spawn_blocking(|| ());),
            quote!(tokio::time::sleep(d).await;),
            quote!(let _ = tokio::time::timeout(d, f).await;),
            quote!(let i = tokio::time::interval(d);),
            quote!(tokio::select! { _ = a => {} };),
            quote!(futures::select! { _ = a => {} };),
            quote!(
                static mut N: u32 = 0;
            ),
            quote!(unsafe { N += 1 };),
            quote!(
                use std::thread::spawn;
            ),
            quote!(
                use std::fs;
            ),
            quote!(let f = || async { let _ = Instant::now(); };),
            quote!(let f = async move { tokio::spawn(x) };),
            quote!(println!("{:?}", SystemTime::now());),
            quote!(thread_local! { static N: Cell<u32> = Cell::new(0); }),
            quote!(
                static SEEN: AtomicU64 = AtomicU64::new(0);
            ),
            quote!(
                static CACHE: std::sync::Mutex<Vec<u8>> = Mutex::new(Vec::new());
            ),
        ];
        for case in cases {
            let found = violations(case.clone());
            assert_eq!(found.len(), 1, "{case}: {found:?}");
        }
    }

    #[test]
    fn no_false_alarms() {
        let body = quote! {
            let now = now();
            let label = spawn_label(now);
            let t = self_clock.now;
            let x = order.time.sleep;
            let v: Vec<u32> = Vec::new();
            let mut m = std::collections::BTreeMap::new();
            m.insert(1, 2);
            for i in 0..3 { match i { 0 => {}, _ => {} } }
            let env = config.env.clone();
            let r = my::random();
            let s = spawn(x);
            let c = Command::new("x");
            let fs = files.fs();
            let data = unchecked(std::time::Instant::now()).into_inner();
            let step = ctx.step(|_| async { let _ = std::time::SystemTime::now(); Ok(()) }).await;
            ctx.compensate("undo", |_| async move { let _ = std::fs::read("x"); Ok(()) });
            let id = ctx.wait_for_callback(|id, _| async move { let _ = std::net::TcpStream::connect("x"); Ok(()) });
            let done = ctx.wait_for_condition(0, |n, _| async move { let _ = std::env::var("X"); Ok(n) });
            fn helper() -> u64 { fastrand::u64(..) }
            static GREETING: &str = "hello";
            let e = env!("CARGO_PKG_NAME");
        };
        assert_eq!(violations(body), Vec::<String>::new());
    }

    #[test]
    fn messages_say_the_fix() {
        let found = violations(quote!(let t = Instant::now();));
        assert!(found[0].contains("#[durable_step]"), "{found:?}");
        let found = violations(quote!(tokio::time::sleep(d).await;));
        assert!(found[0].contains("ctx.wait"), "{found:?}");
    }
}
