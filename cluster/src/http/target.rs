//! The actor (and message) an invoke path, an actor view path or a listing
//! cursor names.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::ApiError;

/// The path prefix of HTTP ingress.
pub(crate) const INVOKE_PREFIX: &str = "/v1/invoke/";

/// The path prefix of one actor's view.
pub(crate) const ACTOR_PREFIX: &str = "/v1/actors/";

/// What an id keeps unencoded in a cursor: the URL-safe characters. A slash
/// is encoded, so the last `/` of a cursor separates type and id.
const ID_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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
        let mut segments = segments(path, INVOKE_PREFIX, "TYPE/ID/MESSAGE", 3)?;
        let message = decode(segments.pop().unwrap_or_default())?;
        let (function, id) = function_and_id(segments)?;
        Ok(Self {
            function,
            id,
            message,
        })
    }
}

/// `(TYPE, ID)` from the raw path of an actor view, `/v1/actors/TYPE/ID`:
/// the last segment is the id, every one before it the type, as in
/// [`Target::parse`].
pub(crate) fn parse_actor_path(path: &str) -> Result<(String, String), ApiError> {
    function_and_id(segments(path, ACTOR_PREFIX, "TYPE/ID", 2)?)
}

/// The listing cursor of an actor: `TYPE/ID` with the id percent-encoded,
/// so an id holding a slash cannot be mistaken for part of the type.
pub(crate) fn cursor(function: &str, id: &str) -> String {
    format!("{function}/{}", utf8_percent_encode(id, ID_KEEP))
}

/// `(TYPE, ID)` from a cursor made by [`cursor`].
pub(crate) fn parse_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::BadQuery(format!("`cursor` must be a `next_cursor`, not `{cursor}`"));
    let (function, id) = cursor.rsplit_once('/').ok_or_else(bad)?;
    if function.is_empty() || id.is_empty() {
        return Err(bad());
    }
    let id = percent_decode_str(id)
        .decode_utf8()
        .map_err(|_| bad())?
        .into_owned();
    Ok((function.to_owned(), id))
}

/// The non-empty segments after `prefix`, at least `parts` of them.
fn segments<'a>(
    path: &'a str,
    prefix: &str,
    shape: &str,
    parts: usize,
) -> Result<Vec<&'a str>, ApiError> {
    let malformed = || ApiError::NotFound(format!("{path}: expected {prefix}{shape}"));
    let rest = path.strip_prefix(prefix).ok_or_else(malformed)?;
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() < parts || segments.iter().any(|segment| segment.is_empty()) {
        return Err(malformed());
    }
    Ok(segments)
}

/// The last segment is the id; the ones before it, joined, the type.
fn function_and_id(mut segments: Vec<&str>) -> Result<(String, String), ApiError> {
    let id = decode(segments.pop().unwrap_or_default())?;
    let function = segments
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?
        .join("/");
    Ok((function, id))
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
    fn actor_paths_split_like_invoke_paths() {
        assert_eq!(
            parse_actor_path("/v1/actors/bank/account/a%2Fb").unwrap(),
            ("bank/account".to_owned(), "a/b".to_owned())
        );
        assert!(parse_actor_path("/v1/actors/counter").is_err());
        assert!(parse_actor_path("/v1/actors/counter/").is_err());
    }

    #[test]
    fn a_cursor_round_trips_ids_with_slashes() {
        let made = cursor("bank/account", "a/b c");
        assert_eq!(made, "bank/account/a%2Fb%20c");
        assert_eq!(
            parse_cursor(&made).unwrap(),
            ("bank/account".to_owned(), "a/b c".to_owned())
        );
        assert_eq!(cursor("counter", "v-1.x"), "counter/v-1.x");
        for bad in ["", "counter", "counter/", "/x"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
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
