//! A blocking HTTP client for a node's endpoint.

use std::time::Duration;

use cairn::http::views::ErrorBody;
use serde::de::DeserializeOwned;

/// How long one request may take before the tool gives up.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// `--http` is not an address the tool can use.
    #[error("`{0}` is not HOST:PORT or http://HOST:PORT")]
    BadAddress(String),
    /// The node could not be reached or the answer not read.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The node answered with an error.
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    /// The answer is not the JSON expected.
    #[error("{url} answered with unexpected JSON: {reason}")]
    UnexpectedBody { url: String, reason: String },
}

/// A node's endpoint, with the token to present, if any.
pub(crate) struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the endpoint at `address` (`HOST:PORT` or
    /// `http://HOST:PORT`).
    pub(crate) fn new(address: &str, token: Option<String>) -> Result<Self, ClientError> {
        let trimmed = address.trim_end_matches('/');
        let host_port = trimmed.strip_prefix("http://").unwrap_or(trimmed);
        let valid = host_port
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid || host_port.contains('/') {
            return Err(ClientError::BadAddress(address.to_owned()));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Ok(Self {
            base: format!("http://{host_port}"),
            token,
            agent,
        })
    }

    /// GETs `path` and returns the body as JSON.
    pub(crate) fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |error: ureq::Error| ClientError::Unreachable {
            url: url.clone(),
            reason: error.to_string(),
        };
        let mut request = self.agent.get(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.call().map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<ErrorBody>(&body)
                .map(|error| format!("{} ({})", error.error, error.kind))
                .unwrap_or(body);
            return Err(ClientError::Status {
                url,
                status,
                message,
            });
        }
        serde_json::from_str(&body).map_err(|error| ClientError::UnexpectedBody {
            url,
            reason: error.to_string(),
        })
    }

    /// GETs `path` and decodes the body as a `T`.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let value = self.get_json(path)?;
        serde_json::from_value(value).map_err(|error| ClientError::UnexpectedBody {
            url: format!("{}{path}", self.base),
            reason: error.to_string(),
        })
    }
}
