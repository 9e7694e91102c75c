//! Chained functions: an invoice workflow invokes another durable function, `tax-quote`, with a typed
//! request and gets a typed quote back.
//!
//! What it shows:
//! - `ctx.invoke::<TaxRequest, TaxQuote>(function, request)`: the caller checkpoints the invoke and
//!   suspends; the service runs the target as an execution of its own and re-invokes the caller with
//!   its result, which replay returns from then on (the target is never invoked twice).
//! - Typed input and output on both sides: the caller serializes a [`TaxRequest`], the target is a
//!   `#[durable_workflow]` taking a `TaxRequest` and returning a [`TaxQuote`].
//! - A target that fails fails the invoke with [`ErrorKind::InvokeFailed`](durable_runtime::ErrorKind)
//!   carrying the target's `ErrorType` and message (here `UnknownRegion`).
//!
//! Both functions are bins of this crate: `invoice-workflow` and `tax-quote`. Run them together on
//! the local service with a `durable.toml`:
//!
//! ```toml
//! [[function]]
//! name = "invoice-workflow"
//! command = "target/debug/invoice-workflow"
//!
//! [[function]]
//! name = "tax-quote"
//! command = "target/debug/tax-quote"
//! ```
//!
//! ```text
//! cargo build -p durable-examples --bin invoice-workflow --bin tax-quote
//! durable serve &
//! durable invoke invoice-workflow '{"invoice_id":"inv-9","customer":"acme","region":"DE","lines":[{"item":"license","cents":10000}]}'
//! ```
//!
//! On AWS, deploy both as durable functions (`cargo lambda build --release --bin invoice-workflow
//! --bin tax-quote`, see `deploy/`) and give the caller's role `lambda:InvokeFunction` on the target;
//! [`TAX_FUNCTION`] is the target's name (a qualified ARN works too). Tests: `examples/tests/chained.rs`.

use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error};
use serde::{Deserialize, Serialize};

/// The function the invoice workflow invokes.
pub const TAX_FUNCTION: &str = "tax-quote";

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// What.
    pub item: String,
    /// Net price in cents.
    pub cents: u64,
}

/// What the invoice workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceRequest {
    /// The invoice's id.
    pub invoice_id: String,
    /// Who pays.
    pub customer: String,
    /// Where the customer is taxed (ISO 3166 country code).
    pub region: String,
    /// The lines.
    pub lines: Vec<Line>,
}

/// The target's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxRequest {
    /// Where.
    pub region: String,
    /// Net amount in cents.
    pub net_cents: u64,
}

/// The target's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxQuote {
    /// Where.
    pub region: String,
    /// The rate in basis points (1900 = 19 %).
    pub rate_bps: u64,
    /// The tax in cents, rounded half up.
    pub tax_cents: u64,
}

/// What the invoice workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice's id.
    pub invoice_id: String,
    /// Net amount in cents.
    pub net_cents: u64,
    /// The tax quote.
    pub tax: TaxQuote,
    /// Net plus tax.
    pub total_cents: u64,
    /// Where the PDF is.
    pub document: String,
}

/// The tax rate of a region in basis points (a stand-in for a tax service's table).
#[durable_step]
pub async fn lookup_rate(region: String) -> Result<u64, Error> {
    match region.as_str() {
        "DE" => Ok(1900),
        "FR" => Ok(2000),
        "GB" => Ok(2000),
        "US-OR" => Ok(0),
        _ => Err(DurableError::with_type("UnknownRegion", format!("no tax rate for region `{region}`")).into()),
    }
}

/// The target function: quotes the tax on a net amount.
#[durable_workflow]
pub async fn quote_tax(_ctx: DurableContext, request: TaxRequest) -> Result<TaxQuote, Error> {
    let rate_bps = lookup_rate(request.region.clone()).await?;
    let tax_cents = request.net_cents.saturating_mul(rate_bps).saturating_add(5_000) / 10_000;
    Ok(TaxQuote { region: request.region, rate_bps, tax_cents })
}

/// Renders and stores the invoice document.
#[durable_step]
pub async fn render_invoice(invoice_id: String, total_cents: u64) -> Result<String, Error> {
    Ok(format!("s3://invoices/{invoice_id}-{total_cents}.pdf"))
}

/// The caller.
#[durable_workflow]
pub async fn create_invoice(ctx: DurableContext, request: InvoiceRequest) -> Result<Invoice, Error> {
    let net_cents = request.lines.iter().fold(0_u64, |sum, line| sum.saturating_add(line.cents));
    let tax: TaxQuote = ctx
        .invoke::<TaxRequest, TaxQuote>(TAX_FUNCTION, TaxRequest { region: request.region.clone(), net_cents })
        .name("quote-tax")
        .await?;
    let total_cents = net_cents.saturating_add(tax.tax_cents);
    let document = render_invoice(request.invoice_id.clone(), total_cents).await?;
    Ok(Invoice { invoice_id: request.invoice_id, net_cents, tax, total_cents, document })
}
