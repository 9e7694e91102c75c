//! The trip-booking saga under test: a complete trip books everything and cancels nothing; a failed
//! booking cancels exactly the bookings made before it, newest first, and fails the trip with the
//! booking's error; and the cancellations survive the fault matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use durable_examples::saga::{book_trip, Itinerary, TripRequest, SOLD_OUT_CLASS};
use durable_runtime::protocol::{OperationStatus, OperationType};
use durable_runtime::testing::{ExecutionStatus, TestResult, TestRunner};

fn trip() -> TripRequest {
    TripRequest {
        trip_id: "t-1".to_owned(),
        traveller: "ada".to_owned(),
        from: "LHR".to_owned(),
        to: "JFK".to_owned(),
        nights: 3,
        car_class: "compact".to_owned(),
    }
}

/// The steps that ran, in order, with their status.
fn steps(result: &TestResult) -> Vec<(String, OperationStatus)> {
    result
        .operations()
        .iter()
        .filter(|op| op.op_type == OperationType::Step)
        .map(|op| (op.name.clone().unwrap_or_default(), op.status.clone()))
        .collect()
}

fn names(result: &TestResult) -> Vec<String> {
    steps(result).into_iter().map(|(name, _)| name).collect()
}

#[tokio::test]
async fn a_complete_trip_books_everything_and_cancels_nothing() {
    let result = TestRunner::new(book_trip).run(trip()).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Succeeded, "{:?}", result.error());
    let itinerary: Itinerary = result.output().unwrap();
    assert_eq!(itinerary.car.confirmation, "CR-JFK-compact-t-1");
    assert_eq!(names(&result), ["book_flight", "book_hotel", "book_car"]);
}

#[tokio::test]
async fn a_sold_out_car_cancels_the_hotel_then_the_flight() {
    let result = TestRunner::new(book_trip).run(TripRequest { car_class: SOLD_OUT_CLASS.to_owned(), ..trip() }).await;
    let result = result.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    let error = result.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("SoldOut"), "{error:?}");
    assert_eq!(
        steps(&result),
        [
            ("book_flight".to_owned(), OperationStatus::Succeeded),
            ("book_hotel".to_owned(), OperationStatus::Succeeded),
            ("book_car".to_owned(), OperationStatus::Failed),
            ("cancel_hotel".to_owned(), OperationStatus::Succeeded),
            ("cancel_flight".to_owned(), OperationStatus::Succeeded),
        ]
    );
}

#[tokio::test]
async fn a_refused_hotel_cancels_only_the_flight() {
    let result = TestRunner::new(book_trip).run(TripRequest { nights: 45, ..trip() }).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(result.error().unwrap().error_type.as_deref(), Some("StayTooLong"));
    assert_eq!(names(&result), ["book_flight", "book_hotel", "cancel_flight"]);
}

#[tokio::test]
async fn a_refused_flight_has_nothing_to_cancel() {
    let result = TestRunner::new(book_trip).run(TripRequest { to: "LHR".to_owned(), ..trip() }).await.unwrap();
    assert_eq!(result.status(), ExecutionStatus::Failed);
    assert_eq!(names(&result), ["book_flight"]);
}

#[tokio::test]
async fn the_saga_survives_every_fault_while_booking_and_while_cancelling() {
    let runner = TestRunner::new(book_trip);
    runner.fault_matrix(trip()).await.unwrap().assert_ok().unwrap();
    let report = runner.fault_matrix(TripRequest { car_class: SOLD_OUT_CLASS.to_owned(), ..trip() }).await.unwrap();
    assert!(report.checkpoint_calls() >= 3, "{report}");
    report.assert_ok().unwrap();
}
