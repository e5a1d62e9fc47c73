//! The region's certificate authority: it signs the server's TLS certificate and each
//! terminal's client certificate (from the terminal's own CSR, after a one-time token).

use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// Days a terminal certificate is valid; terminals re-enroll before then.
const DEVICE_CERT_DAYS: i64 = 825;

#[derive(Debug)]
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
}

/// Writes a secret (a private key) readable by the owner only; never overwrites one.
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes[0] &= 0x7f; // positive
    SerialNumber::from_slice(&bytes)
}

impl Ca {
    /// Loads the CA from `dir`, or creates it there on first start.
    pub fn load_or_create(dir: &Path, region_name: &str) -> anyhow::Result<Ca> {
        let (key_path, cert_path) = (dir.join("ca.key.pem"), dir.join("ca.pem"));
        if !key_path.exists() {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::default();
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, format!("Menpai CA {region_name}"));
            dn.push(DnType::OrganizationName, "Menpai");
            params.distinguished_name = dn;
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
            params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
            params.serial_number = Some(random_serial());
            let cert = params.self_signed(&key)?;
            write_private(&key_path, &key.serialize_pem())?;
            std::fs::write(&cert_path, cert.pem())?;
            tracing::info!(path = %cert_path.display(), "Created the region's CA.");
        }
        let key = KeyPair::from_pem(&std::fs::read_to_string(&key_path)?)
            .with_context(|| format!("reading {}", key_path.display()))?;
        let cert_pem = std::fs::read_to_string(&cert_path)?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .with_context(|| format!("reading {}", cert_path.display()))?;
        Ok(Ca {
            issuer,
            cert_pem,
            cert_der,
        })
    }

    /// A fresh TLS server certificate for `names` (DNS names or IP addresses).
    pub fn server_cert(
        &self,
        names: &[String],
    ) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        for n in names {
            params
                .subject_alt_names
                .push(match n.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName(n.clone().try_into()?),
                });
        }
        params
            .distinguished_name
            .push(DnType::CommonName, "Menpai regional server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(397);
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| anyhow::anyhow!("server key: {e}"))?;
        Ok((vec![cert.der().clone(), self.cert_der.clone()], key_der))
    }

    /// Signs a terminal's CSR as `device_id`; whatever names the CSR asked for are replaced.
    pub fn sign_device(&self, csr_pem: &str, device_id: &str) -> Result<(String, Vec<u8>), String> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| format!("证书请求（CSR）无效：{e}"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device_id);
        dn.push(DnType::OrganizationName, "Menpai terminals");
        let p = &mut csr.params;
        p.distinguished_name = dn;
        p.subject_alt_names = Vec::new();
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(DEVICE_CERT_DAYS);
        p.serial_number = Some(random_serial());
        p.use_authority_key_identifier_extension = true;
        let cert = csr
            .signed_by(&self.issuer)
            .map_err(|e| format!("签发证书失败：{e}"))?;
        Ok((cert.pem(), cert.der().to_vec()))
    }
}
