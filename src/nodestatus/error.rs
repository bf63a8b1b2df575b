//! Errors of the node status and lease threads, and of their configuration.

use std::fmt;
use std::io;

use crate::kubeclient;

/// What went wrong, and with what.
#[derive(Debug)]
pub enum NodeError {
    /// A setting cannot be used: which one, and why (bad `--node-labels`, a reservation that is
    /// not a quantity, an unknown eviction signal).
    Config { field: &'static str, detail: String },
    /// A thread could not be started.
    Spawn { thread: &'static str, source: io::Error },
    /// An API call about the Node, its status, its Lease or an Event failed.
    Api { what: &'static str, node: String, source: Box<kubeclient::Error> },
    /// The objects to send could not be turned into JSON (a bug in our types).
    Encode { what: &'static str, detail: String },
    /// The API server answered a create or get with an object that is not ours.
    Unexpected { what: &'static str, detail: String },
}

impl NodeError {
    pub(crate) fn api(what: &'static str, node: &str, source: kubeclient::Error) -> NodeError {
        NodeError::Api { what, node: node.to_string(), source: Box::new(source) }
    }

    /// The API error inside, if this is one.
    pub fn api_error(&self) -> Option<&kubeclient::Error> {
        match self {
            NodeError::Api { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }

    /// 404 from the API server (the Node was deleted while we run).
    pub(crate) fn is_not_found(&self) -> bool {
        self.api_error().is_some_and(kubeclient::Error::is_not_found)
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Config { field, detail } => write!(f, "{field}: {detail}"),
            NodeError::Spawn { thread, source } => write!(f, "starting the {thread} thread: {source}"),
            NodeError::Api { what, node, source } => write!(f, "{what} of node {node:?}: {source}"),
            NodeError::Encode { what, detail } => write!(f, "encoding {what}: {detail}"),
            NodeError::Unexpected { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NodeError::Spawn { source, .. } => Some(source),
            NodeError::Api { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
