//! The models the emulator can `pull`: realistic sizes and `details`, deterministic
//! digests.

use crate::client::types::ModelDetails;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct CatalogModel {
    pub name: &'static str,
    pub size: u64,
    pub family: &'static str,
    pub parameter_size: &'static str,
    pub parameter_count: u64,
    pub quantization_level: &'static str,
    pub context_length: u64,
    pub embedding_length: usize,
    pub block_count: u64,
    pub embedding_only: bool,
    pub template: &'static str,
}

const CHATML: &str = "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n";
const LLAMA3: &str = "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

pub const CATALOG: &[CatalogModel] = &[
    CatalogModel {
        name: "qwen2.5-coder:7b",
        size: 4_683_087_332,
        family: "qwen2",
        parameter_size: "7.6B",
        parameter_count: 7_615_616_512,
        quantization_level: "Q4_K_M",
        context_length: 32768,
        embedding_length: 3584,
        block_count: 28,
        embedding_only: false,
        template: CHATML,
    },
    CatalogModel {
        name: "qwen2.5-coder:14b",
        size: 8_988_124_069,
        family: "qwen2",
        parameter_size: "14.8B",
        parameter_count: 14_770_033_664,
        quantization_level: "Q4_K_M",
        context_length: 32768,
        embedding_length: 5120,
        block_count: 48,
        embedding_only: false,
        template: CHATML,
    },
    CatalogModel {
        name: "llama3.2:3b",
        size: 2_019_393_189,
        family: "llama",
        parameter_size: "3.2B",
        parameter_count: 3_212_749_888,
        quantization_level: "Q4_K_M",
        context_length: 131072,
        embedding_length: 3072,
        block_count: 28,
        embedding_only: false,
        template: LLAMA3,
    },
    CatalogModel {
        name: "nomic-embed-text:latest",
        size: 274_302_450,
        family: "nomic-bert",
        parameter_size: "137M",
        parameter_count: 136_727_040,
        quantization_level: "F16",
        context_length: 2048,
        embedding_length: 768,
        block_count: 12,
        embedding_only: true,
        template: "",
    },
];

pub fn find(name: &str) -> Option<&'static CatalogModel> {
    let wanted = crate::ModelName::parse(name);
    CATALOG
        .iter()
        .find(|m| crate::ModelName::parse(m.name) == wanted)
}

impl CatalogModel {
    pub fn details(&self) -> ModelDetails {
        ModelDetails {
            parent_model: String::new(),
            format: "gguf".into(),
            family: self.family.into(),
            families: Some(vec![self.family.into()]),
            parameter_size: self.parameter_size.into(),
            quantization_level: self.quantization_level.into(),
        }
    }

    /// The digest of the weights blob, shared by every model built on these weights.
    pub fn weights_digest(&self) -> String {
        sha256_hex(&format!("weights:{}", self.name))
    }
}

pub fn sha256_hex(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
