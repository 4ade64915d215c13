//! Fresh snapshot stores on each backend, so that one scenario runs on a
//! local folder and on a real S3 server alike.

use std::path::Path;

use cairn_test_s3::S3Server;
use tempfile::TempDir;

/// Where a test's store lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh temporary folder (`fs://…`).
    Fs,
    /// A fresh prefix of the test bucket on the binary's moto server
    /// (`s3://…`), started on first use.
    S3,
}

/// A store no other test uses: its URL, and for `fs` the folder, deleted
/// when this is dropped.
#[derive(Debug)]
pub struct TestStore {
    url: String,
    dir: Option<TempDir>,
}

impl TestStore {
    /// A fresh, empty store on `backend`. Starting the S3 server the first
    /// time blocks the calling thread (moto may have to be installed).
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Fs => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                Self {
                    url: format!("fs://{}", dir.path().display()),
                    dir: Some(dir),
                }
            }
            Backend::S3 => Self {
                url: S3Server::shared().fresh_url(),
                dir: None,
            },
        }
    }

    /// The store's URL, for `NodeBuilder::store` and `Store::open`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The folder of an `fs` store; `None` on S3.
    pub fn fs_root(&self) -> Option<&Path> {
        self.dir.as_ref().map(TempDir::path)
    }
}

/// Runs an async scenario `fn NAME(backend: Backend)` as two tests,
/// `NAME::fs` and `NAME::s3`, each on a two-worker multi-thread runtime.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn fs() {
                    super::$scenario($crate::stores::Backend::Fs).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn s3() {
                    super::$scenario($crate::stores::Backend::S3).await
                }
            }
        )+
    };
}
