# runtime: filled in by its component
