//! Store URLs: `fs://PATH`, `memory://`, `s3://BUCKET/PREFIX?endpoint=URL&region=R`.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local folder; the path is taken verbatim (relative to the working directory unless it
    /// starts with `/`).
    Fs { path: PathBuf },
    /// Process memory, private to one opened store.
    Memory,
    /// An S3 bucket, addressed path-style so that local S3-compatible servers work.
    S3 {
        bucket: String,
        /// The key prefix inside the bucket, without leading or trailing slashes; may be empty.
        prefix: String,
        endpoint: Option<String>,
        region: Option<String>,
    },
}

impl Location {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected SCHEME://…; supported schemes are fs, memory and s3"))?;
        match scheme {
            "fs" => {
                if rest.is_empty() {
                    return Err(bad(
                        "fs:// needs a path, e.g. fs:///var/lib/cairn or fs://cairn-data",
                    ));
                }
                Ok(Self::Fs {
                    path: PathBuf::from(rest),
                })
            }
            "memory" => {
                if !rest.is_empty() {
                    return Err(bad("memory:// takes no path or parameters"));
                }
                Ok(Self::Memory)
            }
            "s3" => parse_s3(url).map_err(|reason| bad(&reason)),
            other => Err(bad(&format!(
                "unsupported scheme {other:?}; supported schemes are fs, memory and s3"
            ))),
        }
    }
}

/// Checks that `url` is a store URL [`crate::Store::open`] understands
/// (`fs://PATH`, `memory://`, `s3://BUCKET/PREFIX?endpoint=…&region=…`),
/// without opening or creating anything: for refusing a bad URL early, at
/// the command line.
pub fn check_url(url: &str) -> Result<()> {
    Location::parse(url).map(drop)
}

fn parse_s3(raw: &str) -> Result<Location, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .into(),
        );
    }
    if url.port().is_some() {
        return Err("the bucket cannot have a port; put the server in ?endpoint=".into());
    }
    if url.fragment().is_some() {
        return Err("unexpected #fragment".into());
    }
    let bucket = url.host_str().unwrap_or_default().to_owned();
    check_bucket(&bucket)?;
    let prefix = url.path().trim_matches('/').to_owned();
    if prefix
        .split('/')
        .any(|part| part.is_empty() && !prefix.is_empty())
    {
        return Err(format!("prefix {prefix:?} has an empty path segment"));
    }
    let mut endpoint = None;
    let mut region = None;
    for (name, value) in url.query_pairs() {
        let slot = match &*name {
            "endpoint" => &mut endpoint,
            "region" => &mut region,
            other => {
                return Err(format!(
                    "unknown parameter {other:?}; expected endpoint or region"
                ))
            }
        };
        if slot.is_some() {
            return Err(format!("parameter {name:?} given twice"));
        }
        if value.is_empty() {
            return Err(format!("parameter {name:?} is empty"));
        }
        *slot = Some(value.into_owned());
    }
    if let Some(endpoint) = &endpoint {
        let parsed =
            url::Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "endpoint {endpoint:?} must be an http:// or https:// URL"
            ));
        }
    }
    Ok(Location::S3 {
        bucket,
        prefix,
        endpoint,
        region,
    })
}

/// S3 bucket naming rules, the part that matters for path-style addressing.
fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("missing bucket: expected s3://BUCKET/PREFIX".into());
    }
    let valid_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let valid_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !(3..=63).contains(&bucket.len()) || !valid_chars || !valid_ends {
        return Err(format!(
            "bucket {bucket:?} is not a valid S3 bucket name (3-63 lowercase letters, digits, '-' or '.')"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match Location::parse(url) {
            Err(Error::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url} gave {other:?}"),
        }
    }

    /// `check_url` accepts what opens and refuses the rest, with the reason.
    #[test]
    fn urls_are_checked_without_opening() {
        for url in ["fs://cairn-data", "memory://", "s3://bucket/prefix"] {
            check_url(url).unwrap();
        }
        let error = check_url("./cairn-data").unwrap_err().to_string();
        assert!(error.contains("expected SCHEME://"), "{error}");
    }

    /// fs paths are taken verbatim, absolute or relative.
    #[test]
    fn fs_paths_are_verbatim() {
        assert_eq!(
            Location::parse("fs:///var/lib/cairn").unwrap(),
            Location::Fs {
                path: "/var/lib/cairn".into()
            }
        );
        assert_eq!(
            Location::parse("fs://cairn-data").unwrap(),
            Location::Fs {
                path: "cairn-data".into()
            }
        );
        assert_eq!(
            Location::parse("fs://a b/c?d").unwrap(),
            Location::Fs {
                path: "a b/c?d".into()
            }
        );
    }

    /// memory:// takes nothing after the scheme.
    #[test]
    fn memory() {
        assert_eq!(Location::parse("memory://").unwrap(), Location::Memory);
        assert!(reason("memory://x").contains("no path"));
    }

    /// A full S3 URL gives bucket, prefix, endpoint and region.
    #[test]
    fn s3_full() {
        assert_eq!(
            Location::parse(
                "s3://cairn-test/snapshots/app1?endpoint=http://127.0.0.1:5000&region=us-east-1"
            )
            .unwrap(),
            Location::S3 {
                bucket: "cairn-test".into(),
                prefix: "snapshots/app1".into(),
                endpoint: Some("http://127.0.0.1:5000".into()),
                region: Some("us-east-1".into()),
            }
        );
    }

    /// Prefix and parameters are optional; slashes around the prefix do not matter.
    #[test]
    fn s3_minimal() {
        assert_eq!(
            Location::parse("s3://bucket.one").unwrap(),
            Location::S3 {
                bucket: "bucket.one".into(),
                prefix: String::new(),
                endpoint: None,
                region: None,
            }
        );
        assert!(matches!(
            Location::parse("s3://b12/p/").unwrap(),
            Location::S3 { prefix, .. } if prefix == "p"
        ));
    }

    /// Each malformed URL is refused with a reason naming what is wrong.
    #[test]
    fn bad_urls_name_the_problem() {
        let cases = [
            ("/var/lib/cairn", "SCHEME://"),
            ("file:///tmp/x", "unsupported scheme \"file\""),
            ("fs://", "needs a path"),
            ("s3://", "missing bucket"),
            ("s3:///prefix", "missing bucket"),
            ("s3://Bucket/x", "not a valid S3 bucket"),
            ("s3://ab", "not a valid S3 bucket"),
            ("s3://b-/x", "not a valid S3 bucket"),
            ("s3://key:secret@bucket/x", "credentials"),
            ("s3://bucket:9000/x", "port"),
            ("s3://bucket/x?endpoint=localhost:9000", "must be an http"),
            ("s3://bucket/x?endpoint=ftp://h", "must be an http"),
            ("s3://bucket/x?region=", "is empty"),
            ("s3://bucket/x?region=a&region=b", "twice"),
            ("s3://bucket/x?style=virtual", "unknown parameter \"style\""),
            ("s3://bucket/a//b", "empty path segment"),
        ];
        for (url, expected) in cases {
            let reason = reason(url);
            assert!(
                reason.contains(expected),
                "{url}: {reason:?} lacks {expected:?}"
            );
        }
    }
}
