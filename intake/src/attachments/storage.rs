//! Where attachment bytes live: through `object_store`, local files under the data dir by
//! default, or an S3-compatible bucket (`attachments_url = "s3://bucket/prefix"`) so that every
//! node of a deployment reads what any node stored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::IntakeError;

/// Where attachments are stored, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory (default `DATA_DIR/attachments`).
    Local(PathBuf),
    /// A bucket of S3 or an S3-compatible service, with an optional key prefix.
    S3 { bucket: String, prefix: String },
}

impl Location {
    /// Reads `attachments_url`: empty for `data_dir/attachments`, `s3://bucket[/prefix]`, or
    /// `file:///path` (or a plain path) for another directory.
    pub fn parse(url: &str, data_dir: &Path) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(Self::Local(data_dir.join("attachments")));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !valid {
                return Err(format!(
                    "attachments_url {url:?}: the bucket must be 3 to 63 of a-z 0-9 . -"
                ));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p == ".." || p == ".") {
                return Err(format!("attachments_url {url:?}: no . or .. in the prefix"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Self::Local(PathBuf::from(path)));
        }
        if url.contains("://") {
            return Err(format!(
                "attachments_url {url:?}: use s3://bucket/prefix, file:///dir or empty for DATA_DIR/attachments"
            ));
        }
        Ok(Self::Local(PathBuf::from(url)))
    }
}

/// The object store attachments are written to and read from.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    location: Location,
}

fn s3(bucket: &str, builder: AmazonS3Builder) -> Result<AmazonS3, String> {
    builder
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| format!("cannot configure S3 bucket {bucket}: {e}"))
}

fn unavailable(e: impl std::fmt::Display) -> IntakeError {
    tracing::error!(error = %e, "attachment storage failed");
    IntakeError::Api(hotline_core::ApiError::new(
        hotline_core::error::ErrorCode::Unavailable,
        "the attachment storage is unavailable: try again later",
    ))
}

impl Storage {
    /// Opens the configured storage (`attachments_url`). S3 takes its credentials, region and
    /// endpoint from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT` for an S3-compatible service, `AWS_ALLOW_HTTP=true`
    /// for one without TLS); nothing is contacted until the first upload.
    pub fn open(url: &str, data_dir: &Path) -> Result<Self, String> {
        let location = Location::parse(url, data_dir)?;
        Self::at(location, AmazonS3Builder::from_env())
    }

    /// Opens `location`; `s3` is the builder used for an S3 location.
    pub fn at(location: Location, s3_builder: AmazonS3Builder) -> Result<Self, String> {
        let store: Arc<dyn ObjectStore> = match &location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| format!("cannot use {}: {e}", dir.display()))?,
                )
            }
            Location::S3 { bucket, .. } => Arc::new(s3(bucket, s3_builder)?),
        };
        Ok(Self { store, location })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The key of a new object: `YYYY/MM/DD/<id>` (UTC date; no name a user chose).
    pub fn key_for(id: &str, at: DateTime<Utc>) -> String {
        format!("{}/{id}", at.format("%Y/%m/%d"))
    }

    /// The object a key is stored as: in a bucket, the key after the prefix; in a directory,
    /// the key as a path below it.
    fn path(&self, key: &str) -> Result<ObjectPath, IntakeError> {
        let name = match &self.location {
            Location::S3 { prefix, .. } if !prefix.is_empty() => format!("{prefix}/{key}"),
            _ => key.to_owned(),
        };
        ObjectPath::parse(&name).map_err(|e| {
            IntakeError::Workflow(
                hotline_core::StoreError::Corrupt(format!("attachment key {key:?}: {e}")).into(),
            )
        })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), IntakeError> {
        self.store
            .put(&self.path(key)?, PutPayload::from(bytes))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, IntakeError> {
        let found = self.store.get(&self.path(key)?).await;
        match found {
            Ok(r) => r.bytes().await.map_err(unavailable),
            Err(object_store::Error::NotFound { .. }) => {
                tracing::error!(key, "an attachment's bytes are missing from the storage");
                Err(IntakeError::Api(hotline_core::ApiError::not_found(
                    "attachment",
                )))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), IntakeError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let data = Path::new("/srv/hotline");
        assert_eq!(
            Location::parse("", data).unwrap(),
            Location::Local(PathBuf::from("/srv/hotline/attachments"))
        );
        assert_eq!(
            Location::parse("s3://hotline-files/prod/attachments/", data).unwrap(),
            Location::S3 {
                bucket: "hotline-files".into(),
                prefix: "prod/attachments".into()
            }
        );
        assert_eq!(
            Location::parse("s3://hotline-files", data).unwrap(),
            Location::S3 {
                bucket: "hotline-files".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Location::parse("file:///var/files", data).unwrap(),
            Location::Local(PathBuf::from("/var/files"))
        );
        assert!(Location::parse("s3://Bad_Bucket/x", data).is_err());
        assert!(Location::parse("s3://bucket/../x", data).is_err());
        assert!(Location::parse("gs://bucket/x", data).is_err());
    }

    #[tokio::test]
    async fn s3_object_names_without_network() {
        use object_store::signer::{Method, Signer};
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let key = Storage::key_for("0b9c7a9e-1111-4222-8333-444455556666", at);
        assert_eq!(key, "2026/11/23/0b9c7a9e-1111-4222-8333-444455556666");
        // An S3-compatible service at its own endpoint (path-style): building and presigning
        // contact nothing.
        let builder = || {
            AmazonS3Builder::new()
                .with_region("cn-north-1")
                .with_access_key_id("AKIDEXAMPLE")
                .with_secret_access_key("secret")
                .with_endpoint("http://127.0.0.1:9")
                .with_allow_http(true)
        };
        let location = Location::parse("s3://hotline-files/prod/", Path::new("/d")).unwrap();
        let storage = Storage::at(location, builder()).unwrap();
        let path = storage.path(&key).unwrap();
        assert_eq!(
            path.as_ref(),
            "prod/2026/11/23/0b9c7a9e-1111-4222-8333-444455556666"
        );
        let url = s3("hotline-files", builder())
            .unwrap()
            .signed_url(Method::GET, &path, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            format!("{}://{}{}", url.scheme(), url.authority(), url.path()),
            "http://127.0.0.1:9/hotline-files/prod/2026/11/23/0b9c7a9e-1111-4222-8333-444455556666"
        );
        // Without a prefix the key is the object's name.
        let bare = Storage::at(
            Location::parse("s3://hotline-files", Path::new("/d")).unwrap(),
            builder(),
        )
        .unwrap();
        assert_eq!(bare.path(&key).unwrap().as_ref(), key);
    }
}
