/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's `services` answer: a cumulative snapshot of the
 * service table with the daemon's health, which `http-tracer top` diffs
 * to get rates and percentiles. The shape is a contract between the two
 * (docs/control-protocol.md, "services").
 */
#pragma once

#include "basic/json-build.h"
#include "daemon/control.h"

struct Metrics;

/*
 * Adds the snapshot's members to the open answer object @b: since_usec,
 * now_usec, monotonic_usec, health (from @st), histogram (its parameters)
 * and services. @m NULL: an empty list.
 */
void control_services_build(JsonBuild *b, const ControlStatus *st, const struct Metrics *m);
