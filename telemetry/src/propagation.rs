//! W3C trace context across process boundaries. A span's context travels as a
//! `traceparent` string; without an OpenTelemetry layer installed (tracing off) there is
//! no context to send and a received one is ignored, so none of this costs anything then.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tonic::codegen::http::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C header (and NATS header) name.
pub const TRACEPARENT: &str = "traceparent";

/// `span`'s trace context as a `traceparent` value, if it is part of a recorded trace.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = OneField(None);
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.0
}

/// The current span's `traceparent`, if any.
pub fn traceparent_of_current() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// Makes `span` a child of the remote span `traceparent` names (a no-op for a malformed or
/// missing one: the span then starts its own trace).
pub fn follow_traceparent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|t| !t.is_empty()) else { return };
    let parent = TraceContextPropagator::new().extract(&OneField(Some(traceparent.to_string())));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// Puts the current span's `traceparent` on outgoing headers (replacing one passed through
/// from upstream: this span is the caller now).
pub fn inject_traceparent(headers: &mut HeaderMap) {
    if let Some(value) = traceparent_of_current().and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(HeaderName::from_static(TRACEPARENT), value);
    }
}

/// The `traceparent` of incoming headers.
pub(crate) fn traceparent_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(TRACEPARENT).and_then(|value| value.to_str().ok())
}

/// A carrier holding just the `traceparent` field (we propagate no baggage or tracestate).
struct OneField(Option<String>);

impl Injector for OneField {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

impl Extractor for OneField {
    fn get(&self, key: &str) -> Option<&str> {
        if key == TRACEPARENT { self.0.as_deref() } else { None }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}
