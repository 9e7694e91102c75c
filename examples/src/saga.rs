//! A saga: book a flight, a hotel and a rental car for a trip; if a booking fails, cancel the ones
//! already made, in reverse order, and fail the trip with the booking's error.
//!
//! What it shows:
//! - `#[durable_step(compensate = cancel_flight)]`: once `book_flight` has succeeded, the runtime
//!   registers `cancel_flight(booking)`. When the workflow body returns an error, the registered
//!   compensations run last in, first out, each as a checkpointed step, and then the execution fails
//!   with the body's error. A booking that failed registered nothing, so it is not cancelled.
//! - Crash safety: a process that dies halfway through the cancellations is invoked again, replays
//!   the body (which fails the same way and registers the same compensations), skips the
//!   cancellations already recorded and resumes the interrupted one.
//! - The bookings here are deterministic stand-ins for provider APIs: a flight from a city to itself,
//!   a hotel stay of more than 30 nights and the car class `"convertible"` are refused.
//!
//! Run it on the local service:
//!
//! ```text
//! cargo build -p durable-examples --bin trip-booking
//! durable serve --function trip-booking=target/debug/trip-booking &
//! durable invoke trip-booking '{"trip_id":"t-1","traveller":"ada","from":"LHR","to":"JFK","nights":3,"car_class":"convertible"}'
//! durable history ARN     # book_flight, book_hotel, book_car (failed), cancel_hotel, cancel_flight
//! ```
//!
//! As a Lambda bootstrap: `cargo lambda build --release --bin trip-booking` (see `deploy/`). Tests:
//! `examples/tests/saga.rs`.

use durable_runtime::{durable_step, durable_workflow, DurableContext, DurableError, Error};
use serde::{Deserialize, Serialize};

/// The longest hotel stay the stand-in hotel accepts.
pub const MAX_NIGHTS: u32 = 30;
/// The car class the stand-in rental company has sold out.
pub const SOLD_OUT_CLASS: &str = "convertible";

/// What the workflow is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TripRequest {
    /// The trip's id, used as the idempotency key of every booking.
    pub trip_id: String,
    /// Who travels.
    pub traveller: String,
    /// Departure airport.
    pub from: String,
    /// Destination airport (the hotel and the car are booked there).
    pub to: String,
    /// Hotel nights.
    pub nights: u32,
    /// Rental car class.
    pub car_class: String,
}

/// A confirmed booking: what a cancellation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// The provider's confirmation code.
    pub confirmation: String,
    /// The trip it belongs to.
    pub trip_id: String,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Itinerary {
    /// The trip's id.
    pub trip_id: String,
    /// The flight booking.
    pub flight: Booking,
    /// The hotel booking.
    pub hotel: Booking,
    /// The car booking.
    pub car: Booking,
}

/// Books the flight; if the trip fails later, `cancel_flight` undoes it. No retry: the stand-in
/// provider only refuses for good (a real one would get a retry filtered on its transient errors).
#[durable_step(retry = none, compensate = cancel_flight)]
pub async fn book_flight(trip: TripRequest) -> Result<Booking, Error> {
    if trip.from == trip.to {
        return Err(DurableError::with_type("NoSuchRoute", format!("no flight from {} to itself", trip.from)).into());
    }
    Ok(Booking { confirmation: format!("FL-{}-{}-{}", trip.from, trip.to, trip.trip_id), trip_id: trip.trip_id })
}

/// Books the hotel; `cancel_hotel` undoes it.
#[durable_step(retry = none, compensate = cancel_hotel)]
pub async fn book_hotel(trip: TripRequest) -> Result<Booking, Error> {
    if trip.nights > MAX_NIGHTS {
        let message = format!("{} nights requested, at most {MAX_NIGHTS}", trip.nights);
        return Err(DurableError::with_type("StayTooLong", message).into());
    }
    Ok(Booking { confirmation: format!("HT-{}-{}n-{}", trip.to, trip.nights, trip.trip_id), trip_id: trip.trip_id })
}

/// Books the car; `cancel_car` undoes it.
#[durable_step(retry = none, compensate = cancel_car)]
pub async fn book_car(trip: TripRequest) -> Result<Booking, Error> {
    if trip.car_class == SOLD_OUT_CLASS {
        return Err(DurableError::with_type("SoldOut", format!("no {} left at {}", trip.car_class, trip.to)).into());
    }
    Ok(Booking { confirmation: format!("CR-{}-{}-{}", trip.to, trip.car_class, trip.trip_id), trip_id: trip.trip_id })
}

/// Cancels a flight booking. Compensations retry with the default strategy: an undo must not give
/// up on a transient error, and the provider's cancel is idempotent on the confirmation code.
#[durable_step]
pub async fn cancel_flight(booking: Booking) -> Result<(), Error> {
    eprintln!("cancelled flight {}", booking.confirmation);
    Ok(())
}

/// Cancels a hotel booking.
#[durable_step]
pub async fn cancel_hotel(booking: Booking) -> Result<(), Error> {
    eprintln!("cancelled hotel {}", booking.confirmation);
    Ok(())
}

/// Cancels a car booking.
#[durable_step]
pub async fn cancel_car(booking: Booking) -> Result<(), Error> {
    eprintln!("cancelled car {}", booking.confirmation);
    Ok(())
}

/// The workflow: each `?` that returns an error makes the runtime run the cancellations registered
/// so far, newest first.
#[durable_workflow]
pub async fn book_trip(_ctx: DurableContext, trip: TripRequest) -> Result<Itinerary, Error> {
    let flight = book_flight(trip.clone()).await?;
    let hotel = book_hotel(trip.clone()).await?;
    let car = book_car(trip.clone()).await?;
    Ok(Itinerary { trip_id: trip.trip_id, flight, hotel, car })
}
