//! Application parameters pinned in the store on first start, so that a
//! restart with different ones is refused instead of silently mixing two
//! runs' state (for the bank: how many accounts, and their opening balance).
//! They live under `app/`, outside what verification and garbage collection
//! look at.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::{decode_kind, encode_object, ObjectKind};
use crate::fs_commit::Created;
use crate::keys::{Key, APP_DIR};
use crate::store::Store;

impl Store {
    /// Pins `value` as the parameters called `name`: the first call on a
    /// store writes them, create-only and atomically; every later call (a
    /// restart, or a racing first start) checks that it passes the same
    /// value, and fails with [`Error::ParametersMismatch`] otherwise.
    pub async fn pin_parameters<T>(&self, name: &str, value: &T) -> Result<()>
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let key = parameters_key(name)?;
        let bytes = encode_object(ObjectKind::Parameters, &[], value)?;
        if let Created::Won = self.create_only(&key, bytes.into(), true).await? {
            return Ok(());
        }
        let stored: T = self
            .read_parameters(name)
            .await?
            .ok_or_else(|| Error::NotFound { key: key.clone() })?;
        if &stored == value {
            Ok(())
        } else {
            Err(Error::ParametersMismatch {
                name: name.to_owned(),
                stored: format!("{stored:?}"),
                given: format!("{value:?}"),
            })
        }
    }

    /// The parameters pinned as `name`, or `None` if none were.
    pub async fn read_parameters<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let key = parameters_key(name)?;
        match self.read_raw(&key).await {
            Ok(bytes) => decode_kind(&key, &bytes, ObjectKind::Parameters).map(Some),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// `app/<name>`, for a name of letters, digits, `-` and `_`.
fn parameters_key(name: &str) -> Result<String> {
    Key::parse(&format!("{APP_DIR}{name}")).map(|key| key.to_string())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::StoreOptions;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Bank {
        accounts: u64,
        initial_balance: i64,
    }

    #[tokio::test]
    async fn the_first_parameters_stick_and_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("fs://{}", dir.path().display());
        let store = Store::open(&url, StoreOptions::default()).unwrap();
        let first = Bank {
            accounts: 10,
            initial_balance: 100,
        };
        assert_eq!(store.read_parameters::<Bank>("bank").await.unwrap(), None);
        store.pin_parameters("bank", &first).await.unwrap();
        store.pin_parameters("bank", &first).await.unwrap();
        let other = Bank {
            accounts: 11,
            initial_balance: 100,
        };
        let error = store.pin_parameters("bank", &other).await.unwrap_err();
        assert!(matches!(error, Error::ParametersMismatch { .. }), "{error}");
        assert!(error.to_string().contains("accounts: 10"), "{error}");
        assert_eq!(
            store.read_parameters::<Bank>("bank").await.unwrap(),
            Some(first)
        );
        assert!(store.pin_parameters("../x", &other).await.is_err());
    }
}
