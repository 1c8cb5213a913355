//! Parsing of `KUBERNETES_EXEC_INFO`, the `ExecCredential` request that kubectl
//! (client-go) hands an exec credential plugin in its environment.
//!
//! Only what the plugin needs is read: `apiVersion` (the answer must use the same),
//! `kind`, `spec.interactive`, and `spec.cluster.config.profile` (the kubeconfig
//! cluster extension `client.authentication.k8s.io/exec`, sent when the user entry
//! says `provideClusterInfo: true`). Every other field is ignored, so newer
//! client-go versions adding fields do not break the plugin.

use central_auth_core::Error;
use serde::Deserialize;

/// The environment variable client-go sets for exec plugins.
pub const ENV: &str = "KUBERNETES_EXEC_INFO";

/// The `kind` of the request and of the answer.
pub const KIND: &str = "ExecCredential";

/// The `client.authentication.k8s.io` versions this plugin speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `client.authentication.k8s.io/v1` (GA since Kubernetes 1.22).
    V1,
    /// `client.authentication.k8s.io/v1beta1` (older kubectl, still accepted).
    V1beta1,
}

impl ApiVersion {
    /// The full `apiVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "client.authentication.k8s.io/v1",
            ApiVersion::V1beta1 => "client.authentication.k8s.io/v1beta1",
        }
    }

    /// Parses an `apiVersion` string; anything but v1 and v1beta1 is an error that
    /// tells the user what to put in the kubeconfig.
    pub fn parse(text: &str) -> Result<ApiVersion, Error> {
        match text {
            "client.authentication.k8s.io/v1" => Ok(ApiVersion::V1),
            "client.authentication.k8s.io/v1beta1" => Ok(ApiVersion::V1beta1),
            other => Err(Error::bad_input(format!(
                "{ENV} asks for apiVersion {other:?}, which this plugin does not speak; set `apiVersion: client.authentication.k8s.io/v1` (or v1beta1 for kubectl older than 1.22) in the kubeconfig's users[].user.exec"
            ))),
        }
    }
}

/// What the plugin takes from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecInfo {
    /// The version the answer must carry.
    pub api_version: ApiVersion,
    /// Whether kubectl passed a terminal on stdin. The plugin never prompts either way.
    pub interactive: bool,
    /// The profile named by the cluster's exec extension (`spec.cluster.config.profile`).
    pub cluster_profile: Option<String>,
}

impl Default for ExecInfo {
    /// What is assumed without `KUBERNETES_EXEC_INFO`: v1, not interactive, no
    /// cluster profile.
    fn default() -> ExecInfo {
        ExecInfo {
            api_version: ApiVersion::V1,
            interactive: false,
            cluster_profile: None,
        }
    }
}

#[derive(Deserialize)]
struct RawRequest {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    spec: Option<RawSpec>,
}

#[derive(Deserialize)]
struct RawSpec {
    #[serde(default)]
    interactive: Option<bool>,
    #[serde(default)]
    cluster: Option<RawCluster>,
}

#[derive(Deserialize)]
struct RawCluster {
    #[serde(default)]
    config: Option<serde_json::Value>,
}

/// Largest `KUBERNETES_EXEC_INFO` accepted (the kernel caps one variable at
/// 128 KiB; a real request with a cluster CA is a few KiB).
pub const MAX_EXEC_INFO_BYTES: usize = 64 * 1024;

/// Reads the request from the environment variable's value: `None` (unset) or an
/// empty value means the defaults ([`ExecInfo::default`], i.e. v1), so the plugin
/// can be run by hand. More than [`MAX_EXEC_INFO_BYTES`] is refused.
pub fn from_env_value(value: Option<&str>) -> Result<ExecInfo, Error> {
    match value {
        Some(text) if text.len() > MAX_EXEC_INFO_BYTES => Err(Error::bad_input(format!(
            "{ENV} is {} bytes, more than {MAX_EXEC_INFO_BYTES}; it is set by kubectl, unset it to run the plugin by hand",
            text.len()
        ))),
        None => Ok(ExecInfo::default()),
        Some(text) if text.trim().is_empty() => Ok(ExecInfo::default()),
        Some(text) => parse(text),
    }
}

/// Parses the JSON of `KUBERNETES_EXEC_INFO`.
pub fn parse(text: &str) -> Result<ExecInfo, Error> {
    let raw: RawRequest = serde_json::from_str(text).map_err(|e| {
        Error::bad_input(format!(
            "{ENV} is not a valid ExecCredential JSON object ({e}); it is set by kubectl, unset it to run the plugin by hand"
        ))
    })?;
    if let Some(kind) = raw.kind.as_deref() {
        if kind != KIND {
            return Err(Error::bad_input(format!(
                "{ENV} has kind {kind:?}, expected {KIND:?}; it is set by kubectl, unset it to run the plugin by hand"
            )));
        }
    }
    let api_version = match raw.api_version.as_deref() {
        Some(v) => ApiVersion::parse(v)?,
        None => {
            return Err(Error::bad_input(format!(
                "{ENV} has no apiVersion; set `apiVersion: client.authentication.k8s.io/v1` in the kubeconfig's users[].user.exec"
            )))
        }
    };
    let spec = raw.spec;
    let interactive = spec.as_ref().and_then(|s| s.interactive).unwrap_or(false);
    let config = spec.and_then(|s| s.cluster).and_then(|c| c.config);
    Ok(ExecInfo {
        api_version,
        interactive,
        cluster_profile: cluster_profile(config)?,
    })
}

/// `profile` from the cluster extension, if it names one. Other keys are ignored.
fn cluster_profile(config: Option<serde_json::Value>) -> Result<Option<String>, Error> {
    let Some(serde_json::Value::Object(map)) = config else {
        return Ok(None);
    };
    match map.get("profile") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(Error::bad_input(
            "the kubeconfig cluster extension client.authentication.k8s.io/exec has a `profile` that is not a non-empty string; write e.g. `extension: {profile: prod}`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_as_kubectl_sends_it() {
        let info = parse(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:18443","certificate-authority-data":"LS0t","config":null},"interactive":false}}"#)
            .expect("valid");
        assert_eq!(info, ExecInfo::default());
    }

    #[test]
    fn v1beta1_interactive_without_cluster() {
        let info = parse(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#)
            .expect("valid");
        assert_eq!(info.api_version, ApiVersion::V1beta1);
        assert!(info.interactive);
        assert_eq!(info.cluster_profile, None);
    }

    #[test]
    fn cluster_config_names_the_profile_and_unknown_fields_are_ignored() {
        let info = parse(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://x","config":{"profile":"lab","other":[1,2]},"future-field":true},"interactive":false,"newThing":{}},"status":null,"extra":1}"#)
            .expect("valid");
        assert_eq!(info.cluster_profile.as_deref(), Some("lab"));
    }

    #[test]
    fn config_without_profile_or_not_an_object_is_ignored() {
        for config in [r#"{}"#, r#"{"profile":null}"#, r#""text""#, "[1]"] {
            let text = format!(
                r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{{"cluster":{{"config":{config}}}}}}}"#
            );
            assert_eq!(
                parse(&text).expect("valid").cluster_profile,
                None,
                "{config}"
            );
        }
    }

    #[test]
    fn bad_profile_in_config_is_an_error() {
        let e = parse(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"config":{"profile":7}}}}"#)
            .expect_err("not a string");
        assert_eq!(e.exit_code() as u8, 2);
        assert!(e.to_string().contains("extension: {profile: prod}"), "{e}");
    }

    #[test]
    fn missing_or_empty_env_means_v1() {
        assert_eq!(from_env_value(None).expect("default"), ExecInfo::default());
        assert_eq!(
            from_env_value(Some("  ")).expect("default"),
            ExecInfo::default()
        );
        let beta = from_env_value(Some(
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"}"#,
        ))
        .expect("valid");
        assert_eq!(beta.api_version, ApiVersion::V1beta1);
    }

    #[test]
    fn unknown_version_is_a_usage_error() {
        let e = parse(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}"#)
            .expect_err("v1alpha1 is gone");
        assert_eq!(e.exit_code() as u8, 2);
        assert_eq!(
            e.to_string(),
            "KUBERNETES_EXEC_INFO asks for apiVersion \"client.authentication.k8s.io/v1alpha1\", which this plugin does not speak; set `apiVersion: client.authentication.k8s.io/v1` (or v1beta1 for kubectl older than 1.22) in the kubeconfig's users[].user.exec"
        );
    }

    #[test]
    fn malformed_json_is_a_usage_error() {
        for text in ["{", "null", "[]", r#"{"apiVersion":5}"#] {
            let e = parse(text).expect_err("malformed");
            assert_eq!(e.exit_code() as u8, 2, "{text}");
            assert!(
                e.to_string()
                    .starts_with("KUBERNETES_EXEC_INFO is not a valid ExecCredential JSON object"),
                "{e}"
            );
        }
    }

    #[test]
    fn missing_version_or_wrong_kind_is_an_error() {
        let e = parse(r#"{"kind":"ExecCredential"}"#).expect_err("no version");
        assert!(e.to_string().contains("has no apiVersion"), "{e}");
        let e = parse(r#"{"kind":"Pod","apiVersion":"v1"}"#).expect_err("wrong kind");
        assert!(e.to_string().contains("has kind \"Pod\""), "{e}");
    }

    #[test]
    fn version_strings_round_trip() {
        for v in [ApiVersion::V1, ApiVersion::V1beta1] {
            assert_eq!(ApiVersion::parse(v.as_str()).expect("known"), v);
        }
    }
}
