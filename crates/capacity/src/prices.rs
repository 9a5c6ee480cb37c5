//! Instance price catalogs: the built-in AWS catalog, or any CSV in the same format.

use crate::CapacityError;

/// The built-in catalog: Linux prices in us-east-1 for the t2, t3, t3a, t4g, m5 and c5 families, with
/// the burstable types' CPU credits.
const BUILT_IN: &str = include_str!("../data/aws-on-demand-us-east-1.csv");

/// The columns a catalog CSV must have (after `#` comment lines); the optional ones are listed in
/// [`InstanceType`] and may be left empty.
const REQUIRED: [&str; 4] = ["instance_type", "vcpus", "memory_gib", "usd_per_hour"];

/// One instance type: size, on-demand and committed prices, and CPU credits for burstable types.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    #[serde(rename = "instance_type")]
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    /// On-demand price per hour.
    pub usd_per_hour: f64,
    /// Effective hourly price of a 1-year and a 3-year reservation (or savings plan), paid for every
    /// hour of the term whether an instance runs or not.
    #[serde(default)]
    pub reserved_1y: Option<f64>,
    #[serde(default)]
    pub reserved_3y: Option<f64>,
    /// Burstable types (all four or none): CPU % per vCPU an instance sustains on the credits it
    /// earns, the credits it earns per hour (one credit is one vCPU at 100 % for one minute), the most
    /// earned credits its balance holds, and the unlimited-mode price of surplus credits per vCPU-hour.
    #[serde(default)]
    pub baseline_pct: Option<f64>,
    #[serde(default)]
    pub credits_per_hour: Option<f64>,
    #[serde(default)]
    pub max_credits: Option<f64>,
    #[serde(default)]
    pub surplus_usd_per_vcpu_hour: Option<f64>,
}

/// The CPU credit rates of a burstable instance type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burstable {
    pub vcpus: u32,
    pub baseline_pct: f64,
    pub credits_per_hour: f64,
    pub max_credits: f64,
    pub surplus_usd_per_vcpu_hour: f64,
}

impl InstanceType {
    /// The credit rates when this is a burstable type.
    pub fn burstable(&self) -> Option<Burstable> {
        Some(Burstable {
            vcpus: self.vcpus,
            baseline_pct: self.baseline_pct?,
            credits_per_hour: self.credits_per_hour?,
            max_credits: self.max_credits?,
            surplus_usd_per_vcpu_hour: self.surplus_usd_per_vcpu_hour?,
        })
    }

    /// The field that breaks a rule, and why.
    fn check(&self) -> Result<(), (&'static str, String)> {
        let prices = [
            ("memory_gib", Some(self.memory_gib)),
            ("usd_per_hour", Some(self.usd_per_hour)),
            ("reserved_1y", self.reserved_1y),
            ("reserved_3y", self.reserved_3y),
            ("baseline_pct", self.baseline_pct),
            ("credits_per_hour", self.credits_per_hour),
            ("max_credits", self.max_credits),
            ("surplus_usd_per_vcpu_hour", self.surplus_usd_per_vcpu_hour),
        ];
        for (column, value) in prices {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0)
            {
                return Err((column, format!("{value} is not a number >= 0")));
            }
        }
        if self.vcpus == 0 {
            return Err(("vcpus", "an instance has at least 1 vCPU".into()));
        }
        for (column, reserved) in [
            ("reserved_1y", self.reserved_1y),
            ("reserved_3y", self.reserved_3y),
        ] {
            if let Some(reserved) = reserved
                && reserved >= self.usd_per_hour
            {
                return Err((
                    column,
                    format!(
                        "{reserved} is not below the on-demand price {}: such a commitment never pays off",
                        self.usd_per_hour
                    ),
                ));
            }
        }
        if self.baseline_pct.is_some_and(|b| b > 100.0) {
            return Err((
                "baseline_pct",
                "a baseline is at most 100 % per vCPU".into(),
            ));
        }
        let given = [
            self.baseline_pct.is_some(),
            self.credits_per_hour.is_some(),
            self.max_credits.is_some(),
            self.surplus_usd_per_vcpu_hour.is_some(),
        ];
        if given.contains(&true) && given.contains(&false) {
            return Err((
                "baseline_pct",
                "a burstable type needs baseline_pct, credits_per_hour, max_credits and \
                 surplus_usd_per_vcpu_hour (or none of them)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A dated list of instance types with their prices.
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
    /// then a CSV header with at least `instance_type,vcpus,memory_gib,usd_per_hour` and a row per
    /// instance type. Errors name the line and the column.
    pub fn parse(text: &str) -> Result<Self, CapacityError> {
        let mut description = String::new();
        let mut as_of = String::new();
        for comment in text.lines().filter_map(|l| l.trim().strip_prefix('#')) {
            let comment = comment.trim();
            if let Some(date) = comment.strip_prefix("as of:") {
                as_of = date.trim().to_owned();
            } else if description.is_empty() {
                description = comment.to_owned();
            }
        }
        let line_error = |line: u64, message: String| CapacityError::Line {
            line: line as usize,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| CapacityError::Invalid(e.to_string()))?
            .clone();
        let header_line = headers.position().map_or(1, |p| p.line());
        if let Some(missing) = REQUIRED.iter().find(|c| !headers.iter().any(|h| h == **c)) {
            return Err(line_error(
                header_line,
                format!(
                    "the header has no column '{missing}' (it needs {})",
                    REQUIRED.join(",")
                ),
            ));
        }
        let mut instances = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| match e.position() {
                Some(p) => line_error(p.line(), e.to_string()),
                None => CapacityError::Invalid(e.to_string()),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let instance: InstanceType = record.deserialize(Some(&headers)).map_err(|e| {
                let column = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err
                        .field()
                        .and_then(|f| headers.get(f as usize))
                        .map(|c| format!("column {c}: ")),
                    _ => None,
                };
                let why = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.kind().to_string(),
                    _ => e.to_string(),
                };
                line_error(line, format!("{}{why}", column.unwrap_or_default()))
            })?;
            instance
                .check()
                .map_err(|(column, why)| line_error(line, format!("column {column}: {why}")))?;
            instances.push(instance);
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "instance_type,vcpus,memory_gib,usd_per_hour";

    #[test]
    fn built_in_catalog_is_dated_and_has_the_six_families() {
        let catalog = PriceCatalog::built_in();
        assert_eq!(catalog.as_of, "2025-01-01");
        assert!(catalog.description.contains("us-east-1"));
        for family in ["t2.", "t3.", "t3a.", "t4g.", "m5.", "c5."] {
            assert!(catalog.instances.iter().any(|i| i.name.starts_with(family)));
        }
        let micro = catalog.find("t2.micro").unwrap();
        assert_eq!(
            (micro.vcpus, micro.memory_gib, micro.usd_per_hour),
            (1, 1.0, 0.0116)
        );
        // The EC2 User Guide's credit table: t2.micro earns 6 credits an hour, holds at most 144,
        // baseline 10 % of its one vCPU; and 6 = 1 vCPU x 10 % x 60 minutes.
        let credits = micro.burstable().unwrap();
        assert_eq!(
            (
                credits.baseline_pct,
                credits.credits_per_hour,
                credits.max_credits
            ),
            (10.0, 6.0, 144.0)
        );
        // Every burstable row agrees with the guide's rule: credits per hour = vCPUs x baseline x 60,
        // and the balance holds 24 hours of earning.
        for instance in &catalog.instances {
            if let Some(b) = instance.burstable() {
                let earned = f64::from(b.vcpus) * b.baseline_pct / 100.0 * 60.0;
                assert!(
                    (earned - b.credits_per_hour).abs() < 1e-9,
                    "{}",
                    instance.name
                );
                assert!(
                    (b.max_credits - 24.0 * b.credits_per_hour).abs() < 1e-9,
                    "{}",
                    instance.name
                );
            }
        }
        assert!(catalog.find("m5.large").unwrap().burstable().is_none());
        assert_eq!(micro.reserved_3y, None);
        let error = catalog.find("t3.mikro").unwrap_err().to_string();
        assert!(error.contains("did you mean 't3.micro'"), "{error}");
    }

    #[test]
    fn built_in_reserved_prices_are_all_upfront_fees_below_on_demand() {
        // Every row parsed (built_in() parses the whole file and checks each row), and every
        // 1-year price is an all-upfront fee spread over the term's 8,760 hours: t2.micro's
        // $0.006735/h x 8,760 h = $59.00, and each price, rounded to 6 decimals, is a whole-dollar
        // fee / 8,760 to within 0.5e-6 x 8,760 = $0.0044.
        let catalog = PriceCatalog::built_in();
        let micro = catalog.find("t2.micro").unwrap();
        assert_eq!(micro.reserved_1y, Some(0.006735));
        let mut priced = 0;
        for instance in &catalog.instances {
            if let Some(reserved) = instance.reserved_1y {
                assert!(
                    reserved > 0.0 && reserved < instance.usd_per_hour,
                    "{}",
                    instance.name
                );
                let fee = reserved * 8760.0;
                assert!(
                    (fee - fee.round()).abs() <= 0.0044,
                    "{}: {fee}",
                    instance.name
                );
                priced += 1;
            }
            assert_eq!(instance.reserved_3y, None, "{}", instance.name);
        }
        // All 44 types but the five t4g sizes the source lacks (nano, micro, small, medium, xlarge).
        assert_eq!((catalog.instances.len(), priced), (44, 39));
        for name in [
            "t4g.nano",
            "t4g.micro",
            "t4g.small",
            "t4g.medium",
            "t4g.xlarge",
        ] {
            assert_eq!(catalog.find(name).unwrap().reserved_1y, None, "{name}");
        }
    }

    #[test]
    fn custom_catalogs_report_the_bad_line_and_column() {
        let good = PriceCatalog::parse(&format!("# mine\n{HEADER}\nx1,2,4,0.5\n")).unwrap();
        assert_eq!((good.as_of.as_str(), good.instances.len()), ("undated", 1));
        assert_eq!(good.instances[0].reserved_1y, None);
        let committed = PriceCatalog::parse(&format!(
            "{HEADER},reserved_1y,reserved_3y\nx1,2,4,0.5,0.3,0.2\n"
        ))
        .unwrap();
        assert_eq!(committed.instances[0].reserved_3y, Some(0.2));
        let bad = PriceCatalog::parse(&format!("{HEADER}\nx1,2,4\n"));
        assert!(
            matches!(bad, Err(CapacityError::Line { line: 2, .. })),
            "{bad:?}"
        );
        for (row, says) in [
            ("x1,2,4,cheap", "column usd_per_hour"),
            ("x1,2,4,-1", "column usd_per_hour: -1 is not a number >= 0"),
            ("x1,two,4,1", "column vcpus"),
            ("x1,0,4,1", "column vcpus: an instance has at least 1 vCPU"),
        ] {
            let error = PriceCatalog::parse(&format!("# mine\n{HEADER}\n{row}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("line 3") && error.contains(says),
                "{row}: {error}"
            );
        }
        for (row, says) in [
            (
                "x1,2,4,1,1,",
                "column reserved_1y: 1 is not below the on-demand price 1",
            ),
            ("x1,2,4,1,0.6,1.5", "column reserved_3y: 1.5 is not below"),
        ] {
            let error = PriceCatalog::parse(&format!("{HEADER},reserved_1y,reserved_3y\n{row}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("line 2") && error.contains(says),
                "{row}: {error}"
            );
        }
        let half = PriceCatalog::parse(&format!("{HEADER},baseline_pct\nx1,2,4,1,10\n"))
            .unwrap_err()
            .to_string();
        assert!(
            half.contains("line 2") && half.contains("credits_per_hour"),
            "{half}"
        );
        let unknown = PriceCatalog::parse(&format!("{HEADER},colour\nx1,2,4,1,red\n"))
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("colour"), "{unknown}");
        let header = PriceCatalog::parse("name,price\n").unwrap_err().to_string();
        assert!(
            header.contains("line 1") && header.contains("instance_type"),
            "{header}"
        );
    }
}
