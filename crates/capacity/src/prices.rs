//! Instance price catalogs: the built-in AWS on-demand catalog, or any CSV in the same format.

use crate::CapacityError;

/// The built-in catalog: on-demand Linux prices in us-east-1 for the t2, t3, m5 and c5 families.
const BUILT_IN: &str = include_str!("../data/aws-on-demand-us-east-1.csv");

/// The header every catalog CSV starts with (after `#` comment lines).
const HEADER: &str = "instance_type,vcpus,memory_gib,usd_per_hour";

/// One instance type and its hourly price.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    pub usd_per_hour: f64,
}

/// A dated list of instance types with hourly prices.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceCatalog {
    /// The first comment line: what the prices are (provider, region, OS).
    pub description: String,
    /// The `# as of: DATE` comment: when the prices were taken.
    pub as_of: String,
    pub instances: Vec<InstanceType>,
}

impl PriceCatalog {
    /// The compiled-in catalog (AWS on-demand, Linux, us-east-1).
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("the built-in catalog is valid")
    }

    /// Parses a catalog: `#` comment lines (the first describes the catalog, `# as of: DATE` dates it),
    /// then the header `instance_type,vcpus,memory_gib,usd_per_hour` and one row per instance type.
    pub fn parse(text: &str) -> Result<Self, CapacityError> {
        let mut description = String::new();
        let mut as_of = String::new();
        let mut header_seen = false;
        let mut instances = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let comment = comment.trim();
                if let Some(date) = comment.strip_prefix("as of:") {
                    as_of = date.trim().to_owned();
                } else if description.is_empty() {
                    description = comment.to_owned();
                }
                continue;
            }
            if !header_seen {
                if line.replace(' ', "") != HEADER {
                    return Err(CapacityError::Line {
                        line: line_number,
                        message: format!("expected the header '{HEADER}', found '{line}'"),
                    });
                }
                header_seen = true;
                continue;
            }
            instances.push(parse_row(line).map_err(|message| CapacityError::Line {
                line: line_number,
                message,
            })?);
        }
        if instances.is_empty() {
            return Err(CapacityError::Invalid(
                "the price catalog lists no instance types".into(),
            ));
        }
        Ok(Self {
            description,
            as_of: if as_of.is_empty() {
                "undated".into()
            } else {
                as_of
            },
            instances,
        })
    }

    /// The instance type called `name`, or an error that suggests the nearest name.
    pub fn find(&self, name: &str) -> Result<&InstanceType, CapacityError> {
        if let Some(found) = self.instances.iter().find(|i| i.name == name) {
            return Ok(found);
        }
        let nearest = self
            .instances
            .iter()
            .min_by_key(|i| strsim::levenshtein(&i.name, name))
            .map(|i| format!(" (did you mean '{}'?)", i.name))
            .unwrap_or_default();
        Err(CapacityError::Invalid(format!(
            "instance type '{name}' is not in the price catalog{nearest}"
        )))
    }
}

fn parse_row(line: &str) -> Result<InstanceType, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [name, vcpus, memory, price] = fields[..] else {
        return Err(format!(
            "expected 4 fields '{HEADER}', found {}: '{line}'",
            fields.len()
        ));
    };
    let number = |what: &str, text: &str| -> Result<f64, String> {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{what} '{text}' is not a number >= 0"))
    };
    Ok(InstanceType {
        name: name.to_owned(),
        vcpus: vcpus
            .parse()
            .map_err(|_| format!("vcpus '{vcpus}' is not a whole number"))?,
        memory_gib: number("memory_gib", memory)?,
        usd_per_hour: number("usd_per_hour", price)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_is_dated_and_has_the_four_families() {
        let catalog = PriceCatalog::built_in();
        assert_eq!(catalog.as_of, "2025-01-01");
        assert!(catalog.description.contains("us-east-1"));
        for family in ["t2.", "t3.", "m5.", "c5."] {
            assert!(catalog.instances.iter().any(|i| i.name.starts_with(family)));
        }
        let micro = catalog.find("t2.micro").unwrap();
        assert_eq!(
            (micro.vcpus, micro.memory_gib, micro.usd_per_hour),
            (1, 1.0, 0.0116)
        );
        let error = catalog.find("t3.mikro").unwrap_err().to_string();
        assert!(error.contains("did you mean 't3.micro'"), "{error}");
    }

    #[test]
    fn custom_catalogs_report_the_bad_line() {
        let good = PriceCatalog::parse(
            "# mine\ninstance_type,vcpus,memory_gib,usd_per_hour\nx1,2,4,0.5\n",
        )
        .unwrap();
        assert_eq!((good.as_of.as_str(), good.instances.len()), ("undated", 1));
        let bad = PriceCatalog::parse("instance_type,vcpus,memory_gib,usd_per_hour\nx1,2,4\n");
        assert!(matches!(bad, Err(CapacityError::Line { line: 2, .. })));
        let price =
            PriceCatalog::parse("instance_type,vcpus,memory_gib,usd_per_hour\nx1,2,4,cheap\n")
                .unwrap_err()
                .to_string();
        assert!(
            price.contains("line 2") && price.contains("usd_per_hour"),
            "{price}"
        );
        assert!(PriceCatalog::parse("name,price\n").is_err());
    }
}
