//! Attribute arguments, parsed with `syn::meta::parser` and validated at compile time.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{LitFloat, LitInt, LitStr};

const STEP_KEYS: &str = "`name`, `retry`, `semantics`, `compensate` and `crate`";
const WORKFLOW_KEYS: &str = "`name` and `crate`";

/// An attribute's arguments, filled in key by key from `syn::meta::parser`.
pub(crate) trait Args: Default {
    /// Reads one `key = value` (or `key(..)`) argument.
    fn parse(&mut self, meta: ParseNestedMeta) -> syn::Result<()>;

    /// Parses the attribute's argument tokens.
    fn parse_tokens(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        syn::meta::parser(|meta| args.parse(meta)).parse2(tokens)?;
        Ok(args)
    }
}

/// Arguments of `#[durable_workflow(..)]`.
#[derive(Default)]
pub(crate) struct WorkflowArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<syn::Path>,
}

impl Args for WorkflowArgs {
    fn parse(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            set(&mut self.name, parse_name(&meta, "durable_workflow")?, &meta, "name")
        } else if meta.path.is_ident("crate") {
            set(&mut self.krate, parse_crate(&meta)?, &meta, "crate")
        } else {
            Err(meta.error(format!("unknown `#[durable_workflow]` argument; the valid arguments are {WORKFLOW_KEYS}")))
        }
    }
}

/// Arguments of `#[durable_step(..)]`.
#[derive(Default)]
pub(crate) struct StepArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) retry: Option<Retry>,
    pub(crate) semantics: Option<Semantics>,
    /// `compensate = undo`: the step (or function) that undoes this one, called with its result.
    pub(crate) compensate: Option<syn::Path>,
    pub(crate) krate: Option<syn::Path>,
}

impl Args for StepArgs {
    fn parse(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            set(&mut self.name, parse_name(&meta, "durable_step")?, &meta, "name")
        } else if meta.path.is_ident("retry") {
            set(&mut self.retry, Retry::parse(&meta)?, &meta, "retry")
        } else if meta.path.is_ident("semantics") {
            set(&mut self.semantics, Semantics::parse(&meta)?, &meta, "semantics")
        } else if meta.path.is_ident("compensate") {
            let path = meta.value()?.parse::<syn::Path>().map_err(|_| {
                meta.error("`compensate` takes the path of a `#[durable_step]` function, as in `compensate = refund`")
            })?;
            set(&mut self.compensate, path, &meta, "compensate")
        } else if meta.path.is_ident("crate") {
            set(&mut self.krate, parse_crate(&meta)?, &meta, "crate")
        } else {
            Err(meta.error(format!("unknown `#[durable_step]` argument; the valid arguments are {STEP_KEYS}")))
        }
    }
}

fn set<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate `{key}` argument; give it once")));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_name(meta: &ParseNestedMeta, attr: &str) -> syn::Result<LitStr> {
    let lit: LitStr = meta.value()?.parse()?;
    let value = lit.value();
    if value.is_empty() || value.trim() != value {
        return Err(syn::Error::new(
            lit.span(),
            format!("`#[{attr}(name = ..)]` must be a non-empty name without surrounding spaces"),
        ));
    }
    Ok(lit)
}

fn parse_crate(meta: &ParseNestedMeta) -> syn::Result<syn::Path> {
    let lit: LitStr = meta.value()?.parse()?;
    lit.parse_with(syn::Path::parse_mod_style).map_err(|_| {
        syn::Error::new(lit.span(), "`crate = ..` must be a path such as `\"::durable_runtime\"` or `\"my_runtime\"`")
    })
}

/// `semantics = at_least_once | at_most_once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Semantics {
    AtLeastOnce,
    AtMostOnce,
}

impl Semantics {
    fn parse(meta: &ParseNestedMeta) -> syn::Result<Self> {
        let ident: syn::Ident = meta.value()?.parse()?;
        match ident.to_string().as_str() {
            "at_least_once" => Ok(Self::AtLeastOnce),
            "at_most_once" => Ok(Self::AtMostOnce),
            _ => Err(syn::Error::new(
                ident.span(),
                "unknown `#[durable_step]` semantics; write `semantics = at_least_once` or `semantics = at_most_once`",
            )),
        }
    }

    pub(crate) fn to_tokens(self, private: &TokenStream) -> TokenStream {
        match self {
            Self::AtLeastOnce => quote!(#private::StepSemantics::AtLeastOncePerRetry),
            Self::AtMostOnce => quote!(#private::StepSemantics::AtMostOncePerRetry),
        }
    }
}

/// A duration written as `"500ms"`, `"5s"`, `"1m"`, `"2h"` or `"1d"`, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dur {
    pub(crate) millis: u64,
    pub(crate) span: Span,
}

/// Parses `"500ms"`-style text; the error says what is expected.
pub(crate) fn parse_duration(text: &str) -> Result<u64, String> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, unit) = text.split_at(digits);
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    let value = number.parse::<u64>().ok().filter(|_| scale != 0).and_then(|n| n.checked_mul(scale));
    match value {
        Some(0) => Err(format!("duration `{text}` is zero; retry delays must be at least `\"1s\"`")),
        Some(millis) => Ok(millis),
        None => Err(format!(
            "invalid duration `{text}`; write a whole number followed by `ms`, `s`, `m`, `h` or `d`, such as `\"30s\"`"
        )),
    }
}

fn parse_dur(meta: &ParseNestedMeta) -> syn::Result<Dur> {
    let lit: LitStr = meta.value()?.parse()?;
    parse_duration(&lit.value())
        .map(|millis| Dur { millis, span: lit.span() })
        .map_err(|m| syn::Error::new(lit.span(), m))
}

/// The retry shape named after `retry =`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Exponential,
    Linear,
    Fixed,
    None,
}

impl Shape {
    fn keys(self) -> &'static str {
        match self {
            Self::Exponential => "`max_attempts`, `initial`, `max`, `factor` and `jitter`",
            Self::Linear => "`max_attempts`, `initial`, `increment`, `max` and `jitter`",
            Self::Fixed => "`max_attempts`, `delay` and `jitter`",
            Self::None => "none",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Exponential => "exponential",
            Self::Linear => "linear",
            Self::Fixed => "fixed",
            Self::None => "none",
        }
    }
}

/// `jitter = full | half | none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jitter {
    Full,
    Half,
    None,
}

/// `retry = exponential(..) | linear(..) | fixed(..) | none`.
#[derive(Debug, Clone)]
pub(crate) struct Retry {
    pub(crate) shape: Shape,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) initial: Option<Dur>,
    pub(crate) max: Option<Dur>,
    pub(crate) increment: Option<Dur>,
    pub(crate) delay: Option<Dur>,
    pub(crate) factor: Option<f64>,
    pub(crate) jitter: Option<Jitter>,
}

impl Retry {
    fn parse(meta: &ParseNestedMeta) -> syn::Result<Self> {
        let input = meta.value()?;
        let ident: syn::Ident = input.parse()?;
        let shape = match ident.to_string().as_str() {
            "exponential" => Shape::Exponential,
            "linear" => Shape::Linear,
            "fixed" => Shape::Fixed,
            "none" => Shape::None,
            _ => {
                return Err(syn::Error::new(
                    ident.span(),
                    "unknown `#[durable_step]` retry strategy; write `retry = exponential(..)`, `linear(..)`, \
                     `fixed(..)` or `none`",
                ))
            }
        };
        let mut retry = Self {
            shape,
            max_attempts: None,
            initial: None,
            max: None,
            increment: None,
            delay: None,
            factor: None,
            jitter: None,
        };
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let tokens: TokenStream = content.parse()?;
            syn::meta::parser(|meta| retry.parse_key(meta)).parse2(tokens)?;
        } else if shape != Shape::None {
            return Err(syn::Error::new(
                ident.span(),
                format!("write `retry = {}(..)` with its settings, or `retry = {0}()` for the defaults", shape.name()),
            ));
        }
        retry.validate(&ident)?;
        Ok(retry)
    }

    fn parse_key(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        let shape = self.shape;
        let allowed = |key: &str| match shape {
            Shape::Exponential => ["max_attempts", "initial", "max", "factor", "jitter"].contains(&key),
            Shape::Linear => ["max_attempts", "initial", "increment", "max", "jitter"].contains(&key),
            Shape::Fixed => ["max_attempts", "delay", "jitter"].contains(&key),
            Shape::None => false,
        };
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        if !allowed(&key) {
            return Err(meta.error(format!(
                "unknown `{}` retry setting; the valid settings are {}",
                shape.name(),
                shape.keys()
            )));
        }
        match key.as_str() {
            "max_attempts" => {
                let lit: LitInt = meta.value()?.parse()?;
                let n = lit.base10_parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    syn::Error::new(lit.span(), "`max_attempts` must be a whole number from 1 to 4294967295")
                })?;
                set(&mut self.max_attempts, n, &meta, "max_attempts")
            }
            "initial" => set(&mut self.initial, parse_dur(&meta)?, &meta, "initial"),
            "max" => set(&mut self.max, parse_dur(&meta)?, &meta, "max"),
            "increment" => set(&mut self.increment, parse_dur(&meta)?, &meta, "increment"),
            "delay" => set(&mut self.delay, parse_dur(&meta)?, &meta, "delay"),
            "factor" => {
                let lit: LitFloat = meta.value()?.parse()?;
                let f = lit.base10_parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 1.0).ok_or_else(|| {
                    syn::Error::new(lit.span(), "`factor` must be a number of at least 1.0, such as `2.0`")
                })?;
                set(&mut self.factor, f, &meta, "factor")
            }
            _ => {
                let ident: syn::Ident = meta.value()?.parse()?;
                let jitter = match ident.to_string().as_str() {
                    "full" => Jitter::Full,
                    "half" => Jitter::Half,
                    "none" => Jitter::None,
                    _ => return Err(syn::Error::new(ident.span(), "`jitter` must be `full`, `half` or `none`")),
                };
                set(&mut self.jitter, jitter, &meta, "jitter")
            }
        }
    }

    fn validate(&self, ident: &syn::Ident) -> syn::Result<()> {
        if let (Some(initial), Some(max)) = (self.initial, self.max) {
            if max.millis < initial.millis {
                return Err(syn::Error::new(max.span, "`max` must not be shorter than `initial`"));
            }
        }
        match self.shape {
            Shape::Linear if self.initial.is_none() || self.increment.is_none() => Err(syn::Error::new(
                ident.span(),
                "`retry = linear(..)` needs `initial` and `increment`, such as `linear(initial = \"1s\", increment = \"2s\")`",
            )),
            Shape::Fixed if self.delay.is_none() => Err(syn::Error::new(
                ident.span(),
                "`retry = fixed(..)` needs `delay`, such as `fixed(delay = \"5s\")`",
            )),
            _ => Ok(()),
        }
    }

    /// The `RetryStrategy` expression.
    pub(crate) fn to_tokens(&self, private: &TokenStream) -> TokenStream {
        let dur = |d: &Dur| {
            let millis = d.millis;
            quote!(#private::Duration::from_millis(#millis))
        };
        let zero = Dur { millis: 0, span: Span::call_site() };
        let mut tokens = match self.shape {
            Shape::Exponential => quote!(#private::RetryStrategy::exponential()),
            Shape::Linear => {
                let (initial, increment) =
                    (dur(self.initial.as_ref().unwrap_or(&zero)), dur(self.increment.as_ref().unwrap_or(&zero)));
                quote!(#private::RetryStrategy::linear(#initial, #increment))
            }
            Shape::Fixed => {
                let delay = dur(self.delay.as_ref().unwrap_or(&zero));
                quote!(#private::RetryStrategy::fixed(#delay))
            }
            Shape::None => quote!(#private::RetryStrategy::none()),
        };
        if let Some(n) = self.max_attempts {
            tokens.extend(quote!(.max_attempts(#n)));
        }
        if let (Shape::Exponential, Some(d)) = (self.shape, &self.initial) {
            let d = dur(d);
            tokens.extend(quote!(.initial_delay(#d)));
        }
        if let Some(d) = &self.max {
            let d = dur(d);
            tokens.extend(quote!(.max_delay(#d)));
        }
        if let Some(f) = self.factor {
            tokens.extend(quote!(.backoff_factor(#f)));
        }
        if let Some(j) = self.jitter {
            let j = match j {
                Jitter::Full => quote!(Full),
                Jitter::Half => quote!(Half),
                Jitter::None => quote!(None),
            };
            tokens.extend(quote!(.jitter(#private::Jitter::#j)));
        }
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(tokens: TokenStream) -> Result<StepArgs, String> {
        StepArgs::parse_tokens(tokens).map_err(|e| e.to_string())
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("5s"), Ok(5_000));
        assert_eq!(parse_duration("1m"), Ok(60_000));
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        for bad in ["", "5", "s", "1.5s", "5 s", "-1s", "5sec", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("0s").is_err_and(|e| e.contains("zero")));
    }

    #[test]
    fn full_step_args() {
        let args = step(quote!(
            name = "charge-card",
            retry = exponential(max_attempts = 5, initial = "1s", max = "1m", factor = 2.0, jitter = half),
            semantics = at_most_once,
            crate = "::my_rt"
        ));
        let args = args.unwrap_or_default();
        assert_eq!(args.name.map(|n| n.value()).as_deref(), Some("charge-card"));
        assert_eq!(args.semantics, Some(Semantics::AtMostOnce));
        let retry = args.retry.as_ref();
        assert_eq!(retry.map(|r| r.shape), Some(Shape::Exponential));
        assert_eq!(retry.and_then(|r| r.max_attempts), Some(5));
        assert_eq!(retry.and_then(|r| r.max).map(|d| d.millis), Some(60_000));
        assert_eq!(retry.and_then(|r| r.jitter), Some(Jitter::Half));
        assert!(args.krate.is_some());
        let code = retry.map(|r| r.to_tokens(&quote!(p)).to_string()).unwrap_or_default();
        assert!(code.contains("max_attempts (5u32)"), "{code}");
        assert!(code.contains("from_millis (1000u64)"), "{code}");
    }

    #[test]
    fn errors_name_the_fix() {
        let unknown = step(quote!(nmae = "x")).err().unwrap_or_default();
        assert!(unknown.contains("`name`, `retry`, `semantics`, `compensate` and `crate`"), "{unknown}");
        let dup = step(quote!(name = "a", name = "b")).err().unwrap_or_default();
        assert!(dup.contains("duplicate `name`"), "{dup}");
        let setting = step(quote!(retry = fixed(delay = "1s", initial = "1s"))).err().unwrap_or_default();
        assert!(setting.contains("`max_attempts`, `delay` and `jitter`"), "{setting}");
        let linear = step(quote!(retry = linear(initial = "1s"))).err().unwrap_or_default();
        assert!(linear.contains("needs `initial` and `increment`"), "{linear}");
        let order = step(quote!(retry = exponential(initial = "1m", max = "1s"))).err().unwrap_or_default();
        assert!(order.contains("not be shorter"), "{order}");
        let sem = step(quote!(semantics = exactly_once)).err().unwrap_or_default();
        assert!(sem.contains("at_least_once"), "{sem}");
        assert!(step(quote!(retry = none)).is_ok());
        assert!(step(quote!(retry = exponential())).is_ok());
        assert!(step(quote!(retry = exponential)).is_err());
    }

    #[test]
    fn workflow_args() {
        assert!(WorkflowArgs::parse_tokens(quote!(name = "orders", crate = "rt")).is_ok());
        let err = WorkflowArgs::parse_tokens(quote!(retry = none)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("`name` and `crate`"), "{err}");
    }
}
