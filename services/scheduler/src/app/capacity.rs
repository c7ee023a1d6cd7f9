//! Whether an amount of a class fits a provider's inventory: Placement's
//! rules, in one place for claims and for the `resources` filter.

use super::inventory::Inventory;

/// What the inventory can hold in all: `(total - reserved) * ratio`.
pub fn capacity(inv: &Inventory) -> i64 {
    ((inv.total - inv.reserved) as f64 * inv.allocation_ratio).floor() as i64
}

/// Whether `amount` more of a class fits on top of `used`: what `check`
/// accepts, without saying why not (the host cache asks it of every node).
pub fn fits(inv: &Inventory, used: i64, amount: i64) -> bool {
    amount >= inv.min_unit
        && amount <= inv.max_unit
        && inv.step_size > 0
        && amount % inv.step_size == 0
        && used + amount <= capacity(inv)
}

/// Why `amount` more of `class` does not fit on top of `used`, if it
/// does not.
pub fn check(
    class: &str,
    provider: &str,
    inv: &Inventory,
    used: i64,
    amount: i64,
) -> Result<(), String> {
    let why = if amount < inv.min_unit {
        format!("the amount {amount} is below min_unit {}", inv.min_unit)
    } else if amount > inv.max_unit {
        format!("the amount {amount} is above max_unit {}", inv.max_unit)
    } else if amount % inv.step_size != 0 {
        format!(
            "the amount {amount} is not a multiple of step_size {}",
            inv.step_size
        )
    } else if used + amount > capacity(inv) {
        format!(
            "the requested amount would exceed the capacity ({used} of {} used)",
            capacity(inv)
        )
    } else {
        return Ok(());
    };
    Err(format!(
        "Unable to allocate inventory: Unable to create allocation for '{class}' on resource provider '{provider}': {why}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(total: i64, reserved: i64, ratio: f64) -> Inventory {
        Inventory {
            total,
            reserved,
            min_unit: 1,
            max_unit: 8,
            step_size: 2,
            allocation_ratio: ratio,
        }
    }

    #[test]
    fn the_rules() {
        assert_eq!(capacity(&inv(16, 4, 1.5)), 18);
        assert_eq!(capacity(&inv(3, 0, 0.5)), 1, "rounded down");
        let i = inv(16, 4, 1.0);
        assert!(check("VCPU", "p", &i, 0, 4).is_ok());
        for (used, amount) in [(0, 4), (8, 4), (10, 4), (0, 10), (0, 3), (0, 0)] {
            assert_eq!(
                fits(&i, used, amount),
                check("VCPU", "p", &i, used, amount).is_ok(),
                "fits and check agree on {used} + {amount}"
            );
        }
        assert!(check("VCPU", "p", &i, 8, 4).is_ok(), "exactly full");
        assert!(
            check("VCPU", "p", &i, 10, 4)
                .unwrap_err()
                .contains("capacity")
        );
        assert!(
            check("VCPU", "p", &i, 0, 10)
                .unwrap_err()
                .contains("max_unit")
        );
        assert!(
            check("VCPU", "p", &i, 0, 3)
                .unwrap_err()
                .contains("step_size")
        );
        let mut one = inv(16, 0, 1.0);
        one.min_unit = 2;
        assert!(
            check("VCPU", "p", &one, 0, 1)
                .unwrap_err()
                .contains("min_unit")
        );
    }
}
