//! The chained pair under test: the invoice workflow invokes `tax-quote` (registered on the runner as
//! a durable workflow of its own) and gets its typed quote; a target that fails fails the invoice
//! with the target's error; and both survive the fault matrix together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::chained::{create_invoice, quote_tax, Invoice, InvoiceRequest, Line, TaxQuote, TAX_FUNCTION};
use durable_runtime::protocol::OperationType;
use durable_runtime::testing::{ExecutionStatus, TestRunner};

fn request(region: &str) -> InvoiceRequest {
    InvoiceRequest {
        invoice_id: "inv-9".to_owned(),
        customer: "acme".to_owned(),
        region: region.to_owned(),
        lines: vec![
            Line { item: "license".to_owned(), cents: 10_000 },
            Line { item: "support".to_owned(), cents: 2_345 },
        ],
    }
}

fn runner() -> TestRunner<impl durable_runtime::Handler<InvoiceRequest, Invoice>, InvoiceRequest, Invoice> {
    TestRunner::new(create_invoice).register_workflow(TAX_FUNCTION, quote_tax)
}

#[tokio::test]
async fn the_invoice_carries_the_quote_of_the_chained_function() {
    let result = runner().run(request("DE")).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let invoice: Invoice = result.output().unwrap();
    // 123.45 EUR at 19 %: 23.4555 EUR, rounded to 23.46.
    assert_eq!(invoice.tax, TaxQuote { region: "DE".to_owned(), rate_bps: 1900, tax_cents: 2346 });
    assert_eq!((invoice.net_cents, invoice.total_cents), (12_345, 14_691));
    let invoke = result.operation("quote-tax").unwrap();
    assert_eq!(invoke.op_type, OperationType::ChainedInvoke);
}

#[tokio::test]
async fn the_target_alone_quotes_tax() {
    let request = serde_json::json!({ "region": "FR", "net_cents": 999 });
    let quote: TaxQuote = TestRunner::new(quote_tax).run(request).await.unwrap().output().unwrap();
    assert_eq!(quote.tax_cents, 200);
}

#[tokio::test]
async fn a_failing_target_fails_the_invoice_with_its_error() {
    let result = runner().run(request("XX")).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("UnknownRegion"), "{error:?}");
    assert!(result.operation("render_invoice").is_none(), "no invoice without a quote");
}

#[tokio::test]
async fn the_chained_pair_survives_every_fault() {
    let report = runner().fault_matrix(request("GB")).await.unwrap();
    assert!(report.cells() >= 12, "{report}");
    report.assert_ok().unwrap();
}
