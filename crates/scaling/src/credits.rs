//! CPU credits of burstable instances (AWS T2, T3, T3a, T4g), as the EC2 User Guide defines them: an
//! instance earns `credits_per_hour` continuously and spends one credit per vCPU-minute at 100 % CPU;
//! the earned balance holds at most `max_credits`. When the balance is empty, a **standard** instance is
//! held to its baseline CPU; an **unlimited** one spends surplus credits, paid down by later earnings and
//! charged at the surplus rate when they exceed `max_credits` or when the instance stops.

use scalelab_capacity::{Burstable, InstanceType};

/// What happens when a balance runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditMode {
    /// CPU is held to the baseline.
    Standard,
    /// CPU keeps bursting on surplus credits, which are charged.
    Unlimited,
}

/// How the simulator tracks credits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreditModel {
    pub rates: Burstable,
    pub mode: CreditMode,
    /// Balance of an instance the autoscaler launches (the initial instances start full).
    pub launch_credits: f64,
}

/// One instance's credits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Balance {
    /// Earned credits (standard launch credits included).
    pub earned: f64,
    /// Surplus credits spent and not yet paid down (unlimited mode).
    pub surplus: f64,
}

/// What one instance did during a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spent {
    /// Seconds of the step it was held to the baseline.
    pub throttled: f64,
    /// Surplus credits that became chargeable.
    pub charged: f64,
}

/// Launch credits a T2 instance in standard mode starts with, per vCPU (EC2 User Guide, "Launch
/// credits"); other types and modes start at 0.
const T2_LAUNCH_CREDITS_PER_VCPU: f64 = 30.0;

impl CreditModel {
    /// The model of a burstable `instance` in `mode`, or in its family's default mode (T2 standard;
    /// T3, T3a and T4g unlimited); `None` for a type without credits.
    pub fn for_type(instance: &InstanceType, mode: Option<CreditMode>) -> Option<Self> {
        let rates = instance.burstable()?;
        let t2 = instance.name.starts_with("t2.");
        let mode = mode.unwrap_or(if t2 {
            CreditMode::Standard
        } else {
            CreditMode::Unlimited
        });
        let launch_credits = if t2 && mode == CreditMode::Standard {
            T2_LAUNCH_CREDITS_PER_VCPU * f64::from(rates.vcpus)
        } else {
            0.0
        };
        Some(Self {
            rates,
            mode,
            launch_credits,
        })
    }

    /// The baseline as CPU % of the whole instance (the same % for each vCPU).
    pub fn baseline(&self) -> f64 {
        self.rates.baseline_pct
    }

    /// Runs `balance` for `seconds` at `cpu` % of the instance (its vCPUs alike): how long it was held
    /// to the baseline, and the surplus credits charged.
    pub fn spend(&self, balance: &mut Balance, cpu: f64, seconds: f64) -> Spent {
        let vcpus = f64::from(self.rates.vcpus);
        // Credits per second: earned minus spent (one credit per vCPU-minute at 100 %).
        let net = self.rates.credits_per_hour / 3600.0 - vcpus * cpu / 100.0 / 60.0;
        let mut spent = Spent {
            throttled: 0.0,
            charged: 0.0,
        };
        if net >= 0.0 {
            let mut gain = net * seconds;
            let repaid = gain.min(balance.surplus);
            balance.surplus -= repaid;
            gain -= repaid;
            balance.earned =
                (balance.earned + gain).min(self.rates.max_credits.max(balance.earned));
            return spent;
        }
        let drain = -net;
        let lasts = balance.earned / drain;
        if lasts >= seconds {
            balance.earned -= drain * seconds;
            return spent;
        }
        balance.earned = 0.0;
        let short = seconds - lasts;
        match self.mode {
            CreditMode::Standard => spent.throttled = short,
            CreditMode::Unlimited => {
                balance.surplus += drain * short;
                let excess = (balance.surplus - self.rates.max_credits).max(0.0);
                balance.surplus -= excess;
                spent.charged = excess;
            }
        }
        spent
    }

    /// Dollars for `credits` surplus credits (60 credits = one vCPU-hour).
    pub fn surplus_cost(&self, credits: f64) -> f64 {
        credits / 60.0 * self.rates.surplus_usd_per_vcpu_hour
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalelab_capacity::PriceCatalog;

    #[test]
    fn each_family_has_its_default_mode_and_launch_credits() {
        let catalog = PriceCatalog::built_in();
        let model = |name: &str, mode| CreditModel::for_type(catalog.find(name).unwrap(), mode);
        let t2 = model("t2.medium", None).unwrap();
        // Standard, 30 launch credits per vCPU x 2 vCPUs.
        assert_eq!((t2.mode, t2.launch_credits), (CreditMode::Standard, 60.0));
        let t3 = model("t3.micro", None).unwrap();
        assert_eq!((t3.mode, t3.launch_credits), (CreditMode::Unlimited, 0.0));
        let t2_unlimited = model("t2.micro", Some(CreditMode::Unlimited)).unwrap();
        assert_eq!(t2_unlimited.launch_credits, 0.0);
        assert!(model("m5.large", None).is_none());
    }

    fn micro(mode: CreditMode) -> CreditModel {
        // The EC2 User Guide's t2.micro: 1 vCPU, baseline 10 %, 6 credits an hour, at most 144.
        CreditModel {
            rates: Burstable {
                vcpus: 1,
                baseline_pct: 10.0,
                credits_per_hour: 6.0,
                max_credits: 144.0,
                surplus_usd_per_vcpu_hour: 0.05,
            },
            mode,
            launch_credits: 30.0,
        }
    }

    #[test]
    fn a_full_t2_micro_at_100_percent_runs_out_after_2_h_40_min() {
        // By hand: it spends 60 credits an hour and earns 6: 54 net; 144 / 54 = 2.667 h = 9,600 s.
        let model = micro(CreditMode::Standard);
        let mut balance = Balance {
            earned: 144.0,
            surplus: 0.0,
        };
        let first = model.spend(&mut balance, 100.0, 9_000.0);
        assert_eq!(first.throttled, 0.0);
        assert!((balance.earned - (144.0 - 54.0 * 2.5)).abs() < 1e-9);
        // 600 s more empties it; the next 1,200 s are held to the baseline.
        let second = model.spend(&mut balance, 100.0, 1_800.0);
        assert!((second.throttled - 1_200.0).abs() < 1e-9, "{second:?}");
        assert_eq!(balance.earned, 0.0);
        // Idle for an hour: 6 credits back; a full day of idling stops at the 144 limit.
        model.spend(&mut balance, 0.0, 3_600.0);
        assert!((balance.earned - 6.0).abs() < 1e-9);
        model.spend(&mut balance, 0.0, 86_400.0);
        assert_eq!(balance.earned, 144.0);
        // At the baseline exactly, the balance holds.
        model.spend(&mut balance, 10.0, 3_600.0);
        assert!((balance.earned - 144.0).abs() < 1e-9);
    }

    #[test]
    fn unlimited_mode_spends_surplus_pays_it_down_and_charges_above_the_limit() {
        let model = micro(CreditMode::Unlimited);
        let mut balance = Balance::default();
        // From empty at 100 % for 2 h: 108 surplus credits, under the 144 limit: nothing charged.
        let spent = model.spend(&mut balance, 100.0, 7_200.0);
        assert_eq!((spent.throttled, spent.charged), (0.0, 0.0));
        assert!((balance.surplus - 108.0).abs() < 1e-9);
        // Idle 1 h: 6 earned credits pay 6 of them down.
        model.spend(&mut balance, 0.0, 3_600.0);
        assert!((balance.surplus - 102.0).abs() < 1e-9 && balance.earned == 0.0);
        // 1 h more at 100 %: 54 more = 156, 12 above the limit are charged: 12 / 60 x $0.05 = $0.01.
        let spent = model.spend(&mut balance, 100.0, 3_600.0);
        assert!((spent.charged - 12.0).abs() < 1e-9, "{spent:?}");
        assert!((model.surplus_cost(spent.charged) - 0.01).abs() < 1e-12);
    }
}
