"""The hyperion.kernel VM lab: Debian images and qemu (TCG) machines for tests and demos."""
