//! The summary JSON (`--summary-json`): the [`Summary`] as serde writes it, a
//! contract for pipelines.

use super::Summary;

impl Summary {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary serialises")
    }
}

#[cfg(test)]
mod tests {
    use crate::report::tests::sample;

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["failed"], 1);
        assert_eq!(v["checks"][2]["status"], "pass");
        assert_eq!(v["checks"][2]["value"], "63.3 tok/s");
        for key in ["id", "name", "status", "detail", "value"] {
            assert!(v["checks"][0].get(key).is_some(), "{key}");
        }
    }
}
