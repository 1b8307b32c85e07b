//! Logs and traces for Switchboard's binaries.
//!
//! Logs go to stderr, human-readable or one JSON object per line, filtered by `RUST_LOG`
//! (or the configured level). Traces are exported over OTLP/gRPC when an endpoint is
//! configured; with none, no exporter exists and spans cost what a log line's context does.
//! The W3C `traceparent` carries a trace across processes: gRPC metadata (see
//! [`GrpcTraceLayer`] and [`inject_traceparent`]), NATS headers and the Fanout stream (see
//! [`traceparent_of`] and [`follow_traceparent`]).

mod grpc;
mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, filter::Targets};

pub use grpc::{GrpcTrace, GrpcTraceLayer};
pub use propagation::{
    TRACEPARENT, follow_traceparent, inject_traceparent, traceparent_of, traceparent_of_current,
};

/// The `[tracing]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// Log level when `RUST_LOG` is unset, in `RUST_LOG` syntax (e.g. `info,switchboard_relay=debug`).
    pub log_level: String,
    /// OTLP/gRPC collector, e.g. `http://127.0.0.1:4317`. Unset: no traces are exported.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of this process's spans; unset: named after its role.
    pub service_name: Option<String>,
    /// Share of new traces recorded, 0.0 to 1.0. Traces started upstream keep the caller's
    /// decision (parent-based sampling).
    pub sample_ratio: f64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            log_level: "info".into(),
            otlp_endpoint: None,
            service_name: None,
            sample_ratio: 1.0,
        }
    }
}

impl TracingConfig {
    pub fn validate(&self) -> Result<(), TelemetryError> {
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(TelemetryError::Config(format!(
                "tracing.sample_ratio must be between 0.0 and 1.0, not {}",
                self.sample_ratio
            )));
        }
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(TelemetryError::Config(format!(
                "tracing.otlp_endpoint must be an http:// or https:// URL, not {endpoint:?}"
            )));
        }
        EnvFilter::try_new(&self.log_level).map_err(|e| {
            TelemetryError::Config(format!("tracing.log_level {:?}: {e}", self.log_level))
        })?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("{0}")]
    Config(String),
    #[error("cannot start the OTLP exporter: {0}")]
    Exporter(String),
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// Keeps the trace exporter alive; dropping it flushes the spans not yet sent.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the finished spans not yet exported, and waits for the collector's answer.
    /// Blocks the thread: call it off the async runtime (e.g. `spawn_blocking`).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(error) = provider.force_flush()
        {
            tracing::warn!(%error, "flushing traces failed");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("flushing traces at exit failed: {error}");
        }
    }
}

/// The target of the spans that follow each call and message (gRPC calls, store calls,
/// bus publishes, fan-out). They exist for export: the default log filter leaves them
/// out, so with traces off they are never even created on those hot paths.
pub const SPANS: &str = "switchboard::trace";

/// Spans exported: ours (targets are module paths, matched by prefix: `switchboard_server`,
/// `switchboard_relay`, and [`SPANS`]), not the libraries' (h2, hyper, NATS...).
const TRACED_TARGETS: &str = "switchboard";

/// Installs the process-wide log and trace subscriber. Call once, inside a Tokio runtime
/// (the exporter's channel runs on it), after the config is validated.
pub fn init(
    format: LogFormat,
    config: &TracingConfig,
    default_service: &str,
) -> Result<Telemetry, TelemetryError> {
    config.validate()?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{},fjall=warn,lsm_tree=warn,tantivy=warn,{SPANS}=off",
            config.log_level
        ))
    });
    // Logs on stderr: stdout carries what scripts read ("... listening on ADDR").
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Human => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    let (traces, provider) = match &config.otlp_endpoint {
        None => (None, None),
        Some(endpoint) => {
            let service = config.service_name.as_deref().unwrap_or(default_service);
            let provider = tracer_provider(endpoint, service, config.sample_ratio)?;
            let targets = Targets::new().with_target(TRACED_TARGETS, tracing::Level::INFO);
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("switchboard"))
                .with_filter(targets);
            (Some(layer), Some(provider))
        }
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces)
        .try_init()
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    if let Some(endpoint) = &config.otlp_endpoint {
        tracing::info!(%endpoint, ratio = config.sample_ratio, "exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}

fn tracer_provider(
    endpoint: &str,
    service: &str,
    ratio: f64,
) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio))))
        .with_resource(Resource::builder().with_service_name(service.to_string()).build())
        .build())
}
