/*
 * collect_linux.h - Linux-only extras of the collectors (collect_linux.c):
 * resetting the per-device state the disk collector keeps between reads
 * (used by tests that read several fixture sets in one process).
 */
#ifndef HVKVP_COLLECT_LINUX_H
#define HVKVP_COLLECT_LINUX_H

void collect_linux_reset_state(void);

#endif
