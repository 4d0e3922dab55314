//! Sign-up by country: locate the client's IP in a table of ranges and check the list.

use folio_common::{Error, Result};
use std::net::IpAddr;
use std::path::Path;

/// IP ranges with their country, sorted by first address (IPv4 as IPv4-mapped IPv6).
#[derive(Debug, Default)]
pub struct GeoTable {
    ranges: Vec<(u128, u128, String)>,
}

fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl GeoTable {
    /// Reads a headerless CSV of `first_ip,last_ip,country_code` (DB-IP's "IP to Country
    /// Lite" format; other columns after these three are ignored).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)?;
        let mut ranges = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record?;
            let field = |n: usize| record.get(n).map(str::trim).unwrap_or_default();
            let parse = |n: usize| -> anyhow::Result<u128> {
                Ok(key(field(n).parse().map_err(|_| {
                    anyhow::anyhow!(
                        "{}: line {}: {:?} is not an IP address",
                        path.display(),
                        i + 1,
                        field(n)
                    )
                })?))
            };
            ranges.push((parse(0)?, parse(1)?, field(2).to_ascii_uppercase()));
        }
        ranges.sort_by_key(|r| r.0);
        Ok(GeoTable { ranges })
    }

    /// The country of `ip`, if a range holds it.
    pub fn country(&self, ip: IpAddr) -> Option<&str> {
        let k = key(ip);
        let i = self.ranges.partition_point(|r| r.0 <= k);
        let (_, last, country) = self.ranges.get(i.checked_sub(1)?)?;
        (k <= *last).then_some(country.as_str())
    }
}

/// Who may register, by the country of their IP.
#[derive(Debug, Default)]
pub struct SignupPolicy {
    /// Allowed country codes; empty means anyone may register.
    pub countries: Vec<String>,
    pub table: GeoTable,
}

impl SignupPolicy {
    /// `FORBIDDEN` (naming the country found) unless a client at `ip` may register.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<()> {
        if self.countries.is_empty() {
            return Ok(());
        }
        match ip.and_then(|ip| self.table.country(ip)) {
            Some(c) if self.countries.iter().any(|a| a == c) => Ok(()),
            Some(c) => Err(Error::forbidden(format!(
                "sign-up is not open in your country ({c})"
            ))),
            None => Err(Error::forbidden(
                "sign-up is not open in your country (unknown: your IP address could not be located)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_ips_in_ranges() {
        let dir = std::env::temp_dir().join(format!("folio-geo-{}", folio_common::new_id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("geo.csv");
        std::fs::write(
            &path,
            "10.0.0.0,10.0.0.255,fr\n192.0.2.0,192.0.2.255,DE\n2001:db8::,2001:db8::ffff,NL\n",
        )
        .expect("write");
        let table = GeoTable::load(&path).expect("load");
        assert_eq!(table.country("10.0.0.7".parse().expect("ip")), Some("FR"));
        assert_eq!(
            table.country("192.0.2.255".parse().expect("ip")),
            Some("DE")
        );
        assert_eq!(
            table.country("2001:db8::1".parse().expect("ip")),
            Some("NL")
        );
        assert_eq!(table.country("10.0.1.0".parse().expect("ip")), None);
        assert_eq!(table.country("9.255.255.255".parse().expect("ip")), None);

        let policy = SignupPolicy {
            countries: vec!["FR".into()],
            table,
        };
        assert!(policy.check(Some("10.0.0.1".parse().expect("ip"))).is_ok());
        let Err(Error::Forbidden(msg)) = policy.check(Some("192.0.2.1".parse().expect("ip")))
        else {
            panic!("expected FORBIDDEN");
        };
        assert!(msg.contains("DE"), "{msg}");
        assert!(policy.check(None).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
