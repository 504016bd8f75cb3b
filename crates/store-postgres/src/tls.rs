//! TLS for PostgreSQL connections, with rustls (ring): the URL's `sslmode` and
//! `sslrootcert` as libpq reads them.
//!
//! | `sslmode` | what planledger does |
//! |---|---|
//! | absent, `disable`, `prefer` | plain TCP (as before; `prefer` does not try TLS) |
//! | `require` | TLS, the connection fails if the server does not offer it; the certificate is not checked, unless `sslrootcert` is given: then as `verify-ca` (libpq's rule) |
//! | `verify-ca` | TLS; the certificate must chain to a CA in `sslrootcert` |
//! | `verify-full` | TLS; the certificate must chain to a CA in `sslrootcert` and name the host of the URL |
//!
//! `sslrootcert` is a PEM file of one or more CA certificates; `verify-ca` and
//! `verify-full` need it (there is no default file).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::PostgresError;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Plain,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A URL split into what the client library reads (`sslmode` rewritten to `require`
/// when TLS is needed, `sslrootcert` removed: the library knows neither) and the TLS
/// settings.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub url: String,
    pub mode: Mode,
    pub root_cert: Option<String>,
}

fn tls_error(message: impl Into<String>) -> PostgresError {
    PostgresError::Tls {
        message: message.into(),
    }
}

/// Percent-decodes a URL query value.
fn decode(value: &str) -> Result<String, PostgresError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| tls_error("a %-escape in the URL's query is malformed"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| tls_error("a value in the URL's query is not UTF-8"))
}

/// Reads `sslmode` and `sslrootcert` from a `postgres://` URL.
pub(crate) fn parse(url: &str) -> Result<Parsed, PostgresError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok(Parsed {
            url: url.to_owned(),
            mode: Mode::Plain,
            root_cert: None,
        });
    };
    let mut kept = Vec::new();
    let (mut mode, mut root_cert) = (Mode::Plain, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                mode = match decode(value)?.as_str() {
                    "disable" | "allow" | "prefer" => Mode::Plain,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    _ => {
                        return Err(tls_error(
                            "sslmode must be one of disable, prefer, require, verify-ca, verify-full",
                        ));
                    }
                };
            }
            "sslrootcert" => root_cert = Some(decode(value)?),
            _ => kept.push(pair),
        }
    }
    if mode == Mode::Require && root_cert.is_some() {
        mode = Mode::VerifyCa;
    }
    if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) && root_cert.is_none() {
        return Err(tls_error(
            "sslmode=verify-ca and verify-full need sslrootcert=FILE (the CA's certificate, PEM) in the URL",
        ));
    }
    match mode {
        Mode::Plain => {
            // What the client library knows of sslmode, as given (it reads disable and prefer).
            if let Some(pair) = query
                .split('&')
                .find(|p| p.starts_with("sslmode=") && !p.ends_with("=allow"))
            {
                kept.push(pair);
            }
        }
        _ => kept.push("sslmode=require"),
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(Parsed {
        url,
        mode,
        root_cert,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration of a TLS mode.
pub(crate) fn config(parsed: &Parsed) -> Result<ClientConfig, PostgresError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("TLS set-up failed: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (parsed.mode, &parsed.root_cert) {
        (Mode::Require, _) => Arc::new(Unverified(provider())),
        (mode, Some(file)) => {
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots(file)?), provider())
                    .build()
                    .map_err(|e| tls_error(format!("the CA certificates in sslrootcert: {e}")))?;
            if mode == Mode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
        (Mode::Plain, _) | (_, None) => {
            return Err(tls_error("no TLS configuration for this sslmode"));
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The CA certificates of a PEM file.
fn roots(file: &str) -> Result<RootCertStore, PostgresError> {
    let cannot = |why: String| tls_error(format!("cannot read sslrootcert {file}: {why}"));
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| cannot(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cannot(e.to_string()))?;
    if certs.is_empty() {
        return Err(cannot("it holds no PEM certificate".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| cannot(format!("a certificate is not a usable CA: {e}")))?;
    }
    Ok(roots)
}

/// `sslmode=require`: encrypted, the certificate unchecked (libpq's meaning); the
/// handshake's signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain is checked against the CAs, the host name is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_rewritten() {
        let p = parse("postgres://u@h/db").unwrap();
        assert_eq!((p.url.as_str(), p.mode), ("postgres://u@h/db", Mode::Plain));
        let p = parse("postgres://u@h/db?sslmode=disable&application_name=x").unwrap();
        assert_eq!(
            p.url,
            "postgres://u@h/db?application_name=x&sslmode=disable"
        );
        assert_eq!(p.mode, Mode::Plain);
        let p = parse("postgres://u@h/db?sslmode=require").unwrap();
        assert_eq!(
            (p.url.as_str(), p.mode),
            ("postgres://u@h/db?sslmode=require", Mode::Require)
        );
        let p =
            parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem").unwrap();
        assert_eq!(p.url, "postgres://u@h/db?sslmode=require");
        assert_eq!(p.mode, Mode::VerifyFull);
        assert_eq!(p.root_cert.as_deref(), Some("/etc/ca x.pem"));
        // libpq: require with a root certificate checks the chain.
        let p = parse("postgres://u@h/db?sslrootcert=/ca.pem&sslmode=require").unwrap();
        assert_eq!(p.mode, Mode::VerifyCa);
        for bad in [
            "postgres://u@h/db?sslmode=verify-full",
            "postgres://u@h/db?sslmode=verify-ca",
            "postgres://u@h/db?sslmode=sometimes",
            "postgres://u@h/db?sslrootcert=%zz&sslmode=require",
        ] {
            assert!(
                matches!(parse(bad), Err(PostgresError::Tls { .. })),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for file in [dir.path().join("missing.pem"), empty] {
            let parsed = Parsed {
                url: String::new(),
                mode: Mode::VerifyFull,
                root_cert: Some(file.display().to_string()),
            };
            let e = config(&parsed).unwrap_err().to_string();
            assert!(e.contains("cannot read sslrootcert"), "{e}");
        }
    }
}
