# src/tasks: filled in by its component
