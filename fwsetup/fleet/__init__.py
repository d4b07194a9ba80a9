"""Fleets: locks, bundles of wheels, and exports that provision other machines."""
