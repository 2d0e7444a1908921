# src/containers: filled in by its component
