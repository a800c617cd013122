//! Prometheus metrics: requests by route pattern and status, a latency
//! histogram, and the database pool's state read at scrape time. Routes are
//! patterns (`/w/{workspace_id}`), never raw paths, so labels stay bounded
//! and no id or token reaches them.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use actix_web::http::Method;

use crate::error::{AppError, AppResult};

/// The method as a label: the registered methods by name, anything else
/// (extension methods anyone can make up) as `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The status as a label: the server chooses it, but a label is bounded by
/// construction rather than by trust in every handler, so anything outside
/// the registered codes is its class.
fn status_label(status: u16) -> &'static str {
    const KNOWN: [(u16, &str); 24] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (303, "303"),
        (304, "304"),
        (307, "307"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (406, "406"),
        (408, "408"),
        (409, "409"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (431, "431"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
    ];
    if let Some((_, label)) = KNOWN.iter().find(|(code, _)| *code == status) {
        return label;
    }
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    grant_batch: Histogram,
    /// The consent picker's tree cache (`domain::tree_cache`), read at
    /// scrape time: trees, pages and rendered bytes held, and how many
    /// trees were read and row sets rendered since the start.
    picker: [IntGauge; 5],
}

impl Metrics {
    pub fn new() -> AppResult<Metrics> {
        let m = |e: prometheus::Error| AppError::internal(format!("metrics: {e}"));
        let registry = Registry::new_custom(Some("pagegrant".into()), None).map_err(m)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .map_err(m)?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .map_err(m)?;
        let pool_connections =
            IntGauge::new("db_pool_connections", "Open database connections").map_err(m)?;
        let pool_idle =
            IntGauge::new("db_pool_idle_connections", "Idle database connections").map_err(m)?;
        registry.register(Box::new(requests.clone())).map_err(m)?;
        registry.register(Box::new(latency.clone())).map_err(m)?;
        registry
            .register(Box::new(pool_connections.clone()))
            .map_err(m)?;
        registry.register(Box::new(pool_idle.clone())).map_err(m)?;
        let grant_batch = Histogram::with_opts(
            HistogramOpts::new(
                "grant_batch_size",
                "Grants (token requests) committed per transaction by the grant writer",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
        )
        .map_err(m)?;
        registry
            .register(Box::new(grant_batch.clone()))
            .map_err(m)?;
        let gauge = |name: &str, help: &str| -> AppResult<IntGauge> {
            let g = IntGauge::new(name, help).map_err(m)?;
            registry.register(Box::new(g.clone())).map_err(m)?;
            Ok(g)
        };
        let picker = [
            gauge(
                "picker_trees_cached",
                "Workspace page trees the consent picker holds",
            )?,
            gauge(
                "picker_pages_cached",
                "Pages in the consent picker's cached trees",
            )?,
            gauge(
                "picker_rendered_bytes",
                "Bytes of picker rows kept rendered",
            )?,
            gauge(
                "picker_tree_reads",
                "Page trees read from the database since the start",
            )?,
            gauge(
                "picker_row_renders",
                "Picker row sets rendered since the start",
            )?,
        ];
        // One process-wide counter (bumped in `crypto::verify_password`),
        // registered into each registry: registries keep their own sets, so
        // another `Metrics` (each test server builds one) registers it again.
        let Some(password_checks) = &*crate::crypto::PASSWORD_CHECKS else {
            return Err(AppError::internal("metrics: password_checks_total"));
        };
        registry
            .register(Box::new(password_checks.clone()))
            .map_err(m)?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            grant_batch,
            picker,
        })
    }

    /// One batch of the grant writer (`db::group`), by its size.
    pub fn observe_grant_batch(&self, size: usize) {
        self.grant_batch.observe(size as f64);
    }

    /// Every label comes from a closed set, whatever the request says: a
    /// label value is kept for the life of the process, so one taken from
    /// the request (a made-up method, a raw path) would let anyone grow
    /// memory without bound (issue 25, S69).
    pub fn observe(&self, method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
        let route = route.unwrap_or("unmatched");
        self.requests
            .with_label_values(&[method_label(method), route, status_label(status)])
            .inc();
        self.latency
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn render(
        &self,
        pool: &crate::db::Pool,
        trees: &crate::domain::tree_cache::TreeCache,
    ) -> AppResult<String> {
        let t = trees.stats();
        let values = [
            t.trees,
            t.pages,
            t.rendered_bytes,
            t.reads as usize,
            t.renders as usize,
        ];
        for (g, v) in self.picker.iter().zip(values) {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        let state = pool.state();
        self.pool_connections.set(state.connections as i64);
        self.pool_idle.set(state.idle_connections as i64);
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .map_err(|e| AppError::internal(format!("metrics: {e}")))?;
        String::from_utf8(buf).map_err(|e| AppError::internal(format!("metrics: {e}")))
    }
}
