//! End-to-end suites against real components.
