#pragma once

#include "fleetsession.h"
#include "healthmonitor.h"
#include "simharness.h"

#include <QTest>

// Runs the paused upstream-packet-loss incident to 09:15, a few fleet seconds at a time at the end so the verdict's
// hold time passes, until the session judges EU Central degraded or down. For tests linking fleetcore.
inline void toTheIncident(SimHarness &sim, fleet::FleetSession &session)
{
    using fleet::Verdict;
    sim.advance(75 * 60);
    for (int i = 0; i < 8; ++i) {
        sim.advance(10);
        QTest::qWait(100);
    }
    QTRY_VERIFY_WITH_TIMEOUT(session.healthMonitor()->verdict(QStringLiteral("eu-central")) == Verdict::Degraded
            || session.healthMonitor()->verdict(QStringLiteral("eu-central")) == Verdict::Down,
        20000);
}
