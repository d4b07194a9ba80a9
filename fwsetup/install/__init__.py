"""Installing: the only stage that changes the disk (environments, installers, apt, smoke tests)."""
