//! Verifies that a request is SigV4-signed (`AWS4-HMAC-SHA256` in the `Authorization` header) with
//! the server's [`Credentials`], the way the AWS service does, and answers the errors it answers
//! (all HTTP 403, as AWS JSON errors):
//!
//! | Request | `__type` |
//! |---|---|
//! | no `Authorization` header, or one that does not parse | `MissingAuthenticationTokenException` |
//! | another access key id | `UnrecognizedClientException` |
//! | a signature that does not match, a scope for another service, no `x-amz-date` | `InvalidSignatureException` |
//! | an `x-amz-date` more than [`MAX_SKEW`] from the server's clock | `InvalidSignatureException` ("Signature expired…") |
//!
//! The signature is recomputed with `aws-sigv4`, the signing crate of the AWS SDK, over the method,
//! the path and query exactly as received (still percent-encoded: SigV4 canonicalizes them itself),
//! exactly the headers the client lists in `SignedHeaders`, and the SHA-256 of the body as
//! received, in the region and date of the credential scope. The payload hash is always the body's
//! own: a signed `x-amz-content-sha256` header cannot vouch for a body it does not match (its value
//! is part of the client's canonical request, so a different body, or `UNSIGNED-PAYLOAD`, fails).
//! Signatures are compared in constant time.

use crate::auth::Credentials;
use crate::http::{Request, Response};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningParams, SigningSettings};
use aws_sigv4::sign::v4;
use durable_runtime::checkpoint::aws::aws_sdk_lambda;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// How far a request's `x-amz-date` may be from the server's clock, either way.
///
/// AWS documents five minutes for some services and enforces fifteen for most SigV4 APIs; we take
/// fifteen: client and server share a clock here, so the window only bounds how long a captured
/// request can be replayed, and fifteen minutes also covers a client stopped in a debugger
/// between signing and sending.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The signing name of the Lambda API.
const SERVICE: &str = "lambda";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The message AWS sends with `InvalidSignatureException` for a signature that does not match.
pub(crate) const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you \
     provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

fn missing_token() -> Response {
    Response::error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
}

fn unrecognized_client() -> Response {
    Response::error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
}

fn invalid_signature(message: &str) -> Response {
    Response::error(403, "InvalidSignatureException", message)
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
/// header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let mut scope = credential?.split('/');
    let (access_key_id, date, region, service) = (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if scope.next() != Some("aws4_request") || scope.next().is_some() {
        return None;
    }
    let signed_headers: Vec<&str> = signed_headers?.split(';').collect();
    let signature = signature?;
    let fields = [access_key_id, date, region, service, signature];
    if fields.iter().any(|f| f.is_empty()) || signed_headers.iter().any(|h| h.is_empty()) {
        return None;
    }
    Some(Authorization { access_key_id, date, region, service, signed_headers, signature })
}

/// `Ok` when the request may be served: no `credentials` (authentication off), the unauthenticated
/// `/health` route, or a request [signed](verify) with `credentials` now.
pub(crate) fn authorize(credentials: Option<&Credentials>, request: &Request) -> Result<(), Response> {
    match credentials {
        Some(credentials) if request.segments != ["health"] => verify(credentials, request, SystemTime::now())
            .inspect_err(|refused| {
                tracing::debug!(
                    method = %request.method,
                    target = %request.target,
                    status = refused.status,
                    "local durable service: request refused"
                );
            }),
        _ => Ok(()),
    }
}

/// `Ok` when `request` is signed with `credentials` at a time within [`MAX_SKEW`] of `now`; the
/// AWS error to answer otherwise.
pub(crate) fn verify(credentials: &Credentials, request: &Request, now: SystemTime) -> Result<(), Response> {
    let header = |name: &str| request.headers.get(name).map(|v| v.to_str().map_err(|_| missing_token()));
    let authorization = header("authorization").ok_or_else(missing_token)??;
    let auth = parse_authorization(authorization).ok_or_else(missing_token)?;
    if auth.access_key_id != credentials.access_key_id() {
        return Err(unrecognized_client());
    }
    if auth.service != SERVICE {
        return Err(invalid_signature(&format!("Credential should be scoped to correct service: '{SERVICE}'. ")));
    }
    let Some(Ok(amz_date)) = header("x-amz-date") else {
        return Err(invalid_signature("Authorization header requires existence of a 'X-Amz-Date' header."));
    };
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| invalid_signature(&format!("the x-amz-date header '{amz_date}' is not YYYYMMDD'T'HHMMSS'Z'")))?;
    if amz_date.get(..8) != Some(auth.date) {
        return Err(invalid_signature(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', \
             from '{amz_date}'.",
            auth.date,
            amz_date.get(..8).unwrap_or_default()
        )));
    }
    if signed_at + MAX_SKEW < now {
        return Err(invalid_signature(&format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - {} min.)",
            format_amz_date(now - MAX_SKEW),
            format_amz_date(now),
            MAX_SKEW.as_secs() / 60
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(invalid_signature(&format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + {} min.)",
            format_amz_date(now + MAX_SKEW),
            format_amz_date(now),
            MAX_SKEW.as_secs() / 60
        )));
    }
    let expected =
        signature(credentials, request, &auth, signed_at).ok_or_else(|| invalid_signature(SIGNATURE_MISMATCH))?;
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(invalid_signature(SIGNATURE_MISMATCH))
    }
}

/// The signature `credentials` give `request` over the headers `auth` lists, in its scope, at
/// `time`. `None` when the request cannot be signed (a signed header that is not visible ASCII).
fn signature(
    credentials: &Credentials,
    request: &Request,
    auth: &Authorization<'_>,
    time: SystemTime,
) -> Option<String> {
    let mut headers = Vec::new();
    for &name in &auth.signed_headers {
        for value in request.headers.get_all(name) {
            headers.push((name, value.to_str().ok()?));
        }
    }
    let identity = aws_sdk_lambda::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        None,
        None,
        "durable-local",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Sign exactly what the client listed: the default set of excluded headers (user-agent, …) would
    // drop headers a client chose to sign.
    settings.excluded_headers = None;
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let signable = SignableRequest::new(
        &request.method,
        request.target.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&request.body),
    )
    .ok()?;
    let (_, signature) = sign(signable, &params).ok()?.into_parts();
    Some(signature)
}

/// Parses `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// `time` as `YYYYMMDDTHHMMSSZ` (times before 1970 as 1970).
fn format_amz_date(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = durable_runtime::protocol::civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        for text in ["19700101T000000Z", "20000229T235959Z", "20251126T120000Z", "21000301T010203Z"] {
            let time = parse_amz_date(text).unwrap();
            assert_eq!(format_amz_date(time), text);
        }
        assert_eq!(parse_amz_date("20251126T120000Z").unwrap(), UNIX_EPOCH + Duration::from_secs(1_764_158_400));
        for bad in ["", "20251126T120000", "2025-11-26T12:00:00Z", "20251326T120000Z", "2025112aT120000Z"] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorization_headers_parse() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDX/20251126/us-east-1/lambda/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abc123";
        assert_eq!(
            parse_authorization(header),
            Some(Authorization {
                access_key_id: "AKIDX",
                date: "20251126",
                region: "us-east-1",
                service: "lambda",
                signed_headers: vec!["host", "x-amz-date"],
                signature: "abc123",
            })
        );
        for garbled in [
            "",
            "Bearer x",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=AKIDX/20251126/us-east-1/lambda/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=AKIDX/20251126/us-east-1/lambda, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=AKIDX/20251126/us-east-1/lambda/aws4_request, SignedHeaders=host, \
             Signature=a, Signature=b",
            "AWS4-HMAC-SHA256X Credential=AKIDX/20251126/us-east-1/lambda/aws4_request, SignedHeaders=host, \
             Signature=a",
        ] {
            assert_eq!(parse_authorization(garbled), None, "{garbled}");
        }
    }
}
