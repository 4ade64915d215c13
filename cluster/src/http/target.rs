//! The actor and message an invoke path names.

use percent_encoding::percent_decode_str;

use super::error::ApiError;

/// The path prefix of HTTP ingress.
pub(crate) const INVOKE_PREFIX: &str = "/v1/invoke/";

/// `TYPE/ID/MESSAGE` from an invoke path, each part percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    /// The function type's name.
    pub(crate) function: String,
    /// The actor's id.
    pub(crate) id: String,
    /// The message's registered name.
    pub(crate) message: String,
}

impl Target {
    /// Parses the raw (still percent-encoded) path of a request.
    ///
    /// The last segment is the message and the one before it the id; every
    /// segment before those is the function type, whose names hold slashes
    /// (`bank/account`), so `/v1/invoke/bank/account/42/Deposit` and
    /// `/v1/invoke/bank%2Faccount/42/Deposit` name the same actor. An id that
    /// holds a slash must encode it as `%2F`.
    pub(crate) fn parse(path: &str) -> Result<Self, ApiError> {
        let malformed =
            || ApiError::NotFound(format!("{path}: expected {INVOKE_PREFIX}TYPE/ID/MESSAGE"));
        let rest = path.strip_prefix(INVOKE_PREFIX).ok_or_else(malformed)?;
        let mut segments: Vec<&str> = rest.split('/').collect();
        if segments.len() < 3 || segments.iter().any(|segment| segment.is_empty()) {
            return Err(malformed());
        }
        let message = decode(segments.pop().unwrap_or_default())?;
        let id = decode(segments.pop().unwrap_or_default())?;
        let function = segments
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?
            .join("/");
        Ok(Self {
            function,
            id,
            message,
        })
    }
}

fn decode(segment: &str) -> Result<String, ApiError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| ApiError::NotFound(format!("`{segment}` is not UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(function: &str, id: &str, message: &str) -> Target {
        Target {
            function: function.into(),
            id: id.into(),
            message: message.into(),
        }
    }

    #[test]
    fn slashes_in_the_type_are_taken_raw_or_encoded() {
        let expected = target("bank/account", "42", "Deposit");
        assert_eq!(
            Target::parse("/v1/invoke/bank/account/42/Deposit").unwrap(),
            expected
        );
        assert_eq!(
            Target::parse("/v1/invoke/bank%2Faccount/42/Deposit").unwrap(),
            expected
        );
    }

    #[test]
    fn an_encoded_slash_stays_in_the_id() {
        assert_eq!(
            Target::parse("/v1/invoke/counter/a%2Fb/Get").unwrap(),
            target("counter", "a/b", "Get")
        );
    }

    #[test]
    fn missing_or_empty_parts_are_refused() {
        for path in [
            "/v1/invoke/",
            "/v1/invoke/counter/Get",
            "/v1/invoke/counter//Get",
            "/v1/invoke/counter/1/",
            "/v1/other/counter/1/Get",
        ] {
            assert!(Target::parse(path).is_err(), "{path}");
        }
    }
}
