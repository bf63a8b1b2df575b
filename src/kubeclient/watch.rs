//! Watches: a long GET whose body is a stream of `{"type": ..., "object": ...}` JSON objects,
//! one per change, until the server's `timeoutSeconds` ends it.
//!
//! The body is decoded one event at a time as it arrives (serde_json's stream deserializer
//! over the body reader), so an event split across reads simply waits for its rest.
//!
//! Stopping from another thread: each watch runs on an agent of its own, and
//! [`Canceller::cancel`] sets a flag and shuts that agent's socket down. A read blocked in the middle of the stream
//! fails at once; the iterator then sees the flag and ends (`None`) instead of reporting an
//! error. A watch whose server goes silent ends with a timeout error after `timeoutSeconds`
//! plus a margin (the per-read timeout), so a dead connection cannot hang a reflector.

use std::io::{BufReader, Read};
use std::marker::PhantomData;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::de::IoRead;

use crate::api::json;

use super::client::{Canceller, Client, is_timeout};
use super::error::{Error, Status};
use super::path::{ResourcePath, WatchOptions};

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent<T> {
    Added(T),
    Modified(T),
    Deleted(T),
    /// Nothing changed, but the watch has seen everything up to this version.
    Bookmark {
        resource_version: String,
    },
    /// The server ended the watch with an error, e.g. 410 Expired: relist.
    Error(Status),
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    /// Kept as the bytes it came as, so that the object is decoded by `api::json::decode`
    /// like every other JSON input (one copy of each type's decoder in the binary).
    #[serde(default)]
    object: Option<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize, Default)]
struct BookmarkObject {
    #[serde(default)]
    metadata: BookmarkMeta,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BookmarkMeta {
    #[serde(default)]
    resource_version: String,
}

/// A watch is a GET; the `watch=1` in the path says the rest.
const METHOD: &str = "GET";

/// Decodes watch events from any reader (the body of a watch, or test bytes).
pub struct EventDecoder<R: Read, T> {
    stream: serde_json::StreamDeserializer<'static, IoRead<R>, RawEvent>,
    path: String,
    done: bool,
    _object: PhantomData<fn() -> T>,
}

impl<R: Read, T: DeserializeOwned> EventDecoder<R, T> {
    /// `path` is only for error messages.
    pub fn new(reader: R, path: &str) -> Self {
        EventDecoder {
            stream: serde_json::Deserializer::from_reader(reader).into_iter(),
            path: path.to_string(),
            done: false,
            _object: PhantomData,
        }
    }

    fn decode_error(&self, detail: String) -> Error {
        Error::Decode { method: METHOD, path: self.path.clone(), detail }
    }

    fn event(&self, raw: RawEvent) -> Result<WatchEvent<T>, Error> {
        let bytes = raw.object.as_ref().map_or(&b"null"[..], |o| o.get().as_bytes());
        let object =
            || json::decode::<T>(bytes).map_err(|e| self.decode_error(format!("{} object: {e}", raw.kind)));
        match raw.kind.as_str() {
            "ADDED" => Ok(WatchEvent::Added(object()?)),
            "MODIFIED" => Ok(WatchEvent::Modified(object()?)),
            "DELETED" => Ok(WatchEvent::Deleted(object()?)),
            "BOOKMARK" => {
                let b = json::decode::<BookmarkObject>(bytes)
                    .map_err(|e| self.decode_error(format!("BOOKMARK object: {e}")))?;
                Ok(WatchEvent::Bookmark { resource_version: b.metadata.resource_version })
            }
            "ERROR" => {
                let s = json::decode::<Status>(bytes).map_err(|e| self.decode_error(format!("ERROR object: {e}")))?;
                Ok(WatchEvent::Error(s))
            }
            other => Err(self.decode_error(format!("unknown event type {other:?}"))),
        }
    }
}

impl<R: Read, T: DeserializeOwned> Iterator for EventDecoder<R, T> {
    type Item = Result<WatchEvent<T>, Error>;

    /// `None` when the stream ends cleanly between events. A broken stream yields one error
    /// and then ends; an object that does not decode as `T` yields an error and the stream
    /// goes on.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.stream.next()? {
            Ok(raw) => Some(self.event(raw)),
            Err(e) => {
                self.done = true;
                let path = self.path.clone();
                Some(Err(match e.io_error_kind() {
                    Some(kind) if is_timeout(&kind.into()) => Error::Timeout { method: METHOD, path },
                    Some(_) => Error::Transport { method: METHOD, path, detail: e.to_string() },
                    None if e.is_eof() => {
                        Error::Transport { method: METHOD, path, detail: "stream ended inside an event".into() }
                    }
                    None => self.decode_error(e.to_string()),
                }))
            }
        }
    }
}

/// A running watch: an iterator of events that ends when the server closes the stream (its
/// `timeoutSeconds` is over) or the watch is cancelled.
pub struct Watch<T> {
    events: EventDecoder<BufReader<ureq::BodyReader<'static>>, T>,
    canceller: Canceller,
}

impl<T> Watch<T> {
    /// A handle that stops this watch from another thread.
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }
}

impl<T: DeserializeOwned> Iterator for Watch<T> {
    type Item = Result<WatchEvent<T>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.canceller.is_cancelled() {
            return None;
        }
        let item = self.events.next()?;
        if item.is_err() && self.canceller.is_cancelled() {
            return None;
        }
        Some(item)
    }
}

/// Margin past `timeoutSeconds` after which a silent watch connection counts as dead.
const SILENCE_MARGIN: Duration = Duration::from_secs(30);

/// client-go's reflector: a random duration between 5 and 10 minutes.
fn random_watch_timeout() -> u32 {
    300 + u32::try_from(super::random_u64() % 300).unwrap_or(0)
}

impl Client {
    /// Starts a watch of `path` (a collection, optionally namespaced). On a client from
    /// [`Client::cancellable`] its canceller stops the watch (and its other calls); on any
    /// other client the watch gets connections of its own and [`Watch::canceller`] stops it.
    pub fn watch<T: DeserializeOwned>(&self, path: &ResourcePath, opts: &WatchOptions) -> Result<Watch<T>, Error> {
        let Some(canceller) = self.canceller() else {
            return self.cancellable().0.watch(path, opts);
        };
        let timeout = opts.timeout_seconds.unwrap_or_else(random_watch_timeout);
        let base = path.to_path().map_err(|detail| Error::InvalidRequest {
            method: METHOD,
            path: format!("{path:?}"),
            detail,
        })?;
        let full = base + opts.to_query(timeout).as_str();
        let silence = Duration::from_secs(u64::from(timeout)) + SILENCE_MARGIN;
        let ok = self.send(METHOD, &full, None, Some(silence))?;
        let reader = BufReader::new(ok.body.into_reader());
        Ok(Watch { events: EventDecoder::new(reader, &full), canceller: canceller.clone() })
    }
}

#[cfg(test)]
mod tests;
