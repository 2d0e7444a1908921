# src/oci: filled in by its component
