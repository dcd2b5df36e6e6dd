//! A `tracing` layer that hands every event to a `log::Log` sink (journald's
//! `JournalLog` in production) as a `log::Record` whose key-values are the event's
//! fields plus those of its enclosing spans, so the journal indexes REQUEST_ID,
//! METHOD, ROUTE, STATUS, LATENCY_MS, USER and DECK.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

type Fields = BTreeMap<&'static str, String>;

/// Fields a span carried so far, kept in the span's extensions.
struct SpanFields(Fields);

/// Forwards events to `sink`; journald escapes field names to upper case.
pub struct JournalLayer<L> {
    sink: L,
}

impl<L: log::Log> JournalLayer<L> {
    pub fn new(sink: L) -> Self {
        Self { sink }
    }
}

struct Collect<'a> {
    fields: &'a mut Fields,
    message: Option<&'a mut String>,
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.put(field, text);
    }
}

impl Collect<'_> {
    fn put(&mut self, field: &Field, value: String) {
        match (&mut self.message, field.name()) {
            (Some(message), "message") => **message = value,
            _ => {
                self.fields.insert(field.name(), value);
            }
        }
    }
}

fn level(level: &tracing::Level) -> log::Level {
    match *level {
        tracing::Level::ERROR => log::Level::Error,
        tracing::Level::WARN => log::Level::Warn,
        tracing::Level::INFO => log::Level::Info,
        tracing::Level::DEBUG => log::Level::Debug,
        tracing::Level::TRACE => log::Level::Trace,
    }
}

impl<S, L> Layer<S> for JournalLayer<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: log::Log + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new();
        attrs.record(&mut Collect {
            fields: &mut fields,
            message: None,
        });
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut Collect {
                fields,
                message: None,
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(outer)) = span.extensions().get::<SpanFields>() {
                    fields.extend(outer.iter().map(|(k, v)| (*k, v.clone())));
                }
            }
        }
        let mut message = String::new();
        event.record(&mut Collect {
            fields: &mut fields,
            message: Some(&mut message),
        });
        let meta = event.metadata();
        // Records bridged from the `log` crate carry their origin in `log.*` fields.
        let target = fields
            .remove("log.target")
            .unwrap_or_else(|| meta.target().to_string());
        let module = fields
            .remove("log.module_path")
            .or_else(|| meta.module_path().map(str::to_string));
        let file = fields
            .remove("log.file")
            .or_else(|| meta.file().map(str::to_string));
        let line = fields
            .remove("log.line")
            .and_then(|l| l.parse().ok())
            .or(meta.line());
        self.sink.log(
            &log::Record::builder()
                .level(level(meta.level()))
                .target(&target)
                .module_path(module.as_deref())
                .file(file.as_deref())
                .line(line)
                .key_values(&fields)
                .args(format_args!("{message}"))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// One forwarded record, reduced to what the journal would store.
    #[derive(Debug, Clone)]
    struct Seen {
        level: log::Level,
        message: String,
        fields: BTreeMap<String, String>,
    }

    /// A `log::Log` that keeps what it receives.
    #[derive(Clone, Default)]
    struct Keep(Arc<Mutex<Vec<Seen>>>);

    struct Pairs<'a>(&'a mut BTreeMap<String, String>);

    impl<'kvs> log::kv::VisitSource<'kvs> for Pairs<'_> {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            self.0.insert(key.to_string(), value.to_string());
            Ok(())
        }
    }

    impl log::Log for Keep {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let mut fields = BTreeMap::new();
            record.key_values().visit(&mut Pairs(&mut fields)).unwrap();
            self.0.lock().unwrap().push(Seen {
                level: record.level(),
                message: record.args().to_string(),
                fields,
            });
        }
        fn flush(&self) {}
    }

    #[test]
    fn events_carry_their_span_fields_and_level() {
        let keep = Keep::default();
        let subscriber = tracing_subscriber::registry().with(JournalLayer::new(keep.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "request",
                request_id = "r-1",
                method = "POST",
                route = "/submitCard",
                user = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("user", "alice");
            tracing::info!(
                deck = "hot-zulu",
                status = 200u16,
                latency_ms = 7u64,
                "request served"
            );
            tracing::warn!(method = "PUT", "overrides the span's method");
        });
        let seen = keep.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].level, log::Level::Info);
        assert_eq!(seen[0].message, "request served");
        let want = [
            ("request_id", "r-1"),
            ("method", "POST"),
            ("route", "/submitCard"),
            ("user", "alice"),
            ("deck", "hot-zulu"),
            ("status", "200"),
            ("latency_ms", "7"),
        ];
        for (k, v) in want {
            assert_eq!(
                seen[0].fields.get(k).map(String::as_str),
                Some(v),
                "{k} in {:?}",
                seen[0].fields
            );
        }
        assert!(
            !seen[0].fields.contains_key("message"),
            "the message is MESSAGE, not a field"
        );
        assert_eq!(seen[1].level, log::Level::Warn);
        assert_eq!(
            seen[1].fields["method"], "PUT",
            "an event's own field wins over its span's"
        );
    }

    #[test]
    fn events_outside_spans_still_arrive() {
        let keep = Keep::default();
        let subscriber = tracing_subscriber::registry().with(JournalLayer::new(keep.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(error = "disk full", "backup failed")
        });
        let seen = keep.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].level, seen[0].message.as_str()),
            (log::Level::Error, "backup failed")
        );
        assert_eq!(seen[0].fields["error"], "disk full");
    }
}
