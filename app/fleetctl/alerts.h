#pragma once

#include "alertmanager.h"

#include <QStringList>

namespace fleet::ctl {

struct AlertOptions
{
    AlertmanagerConfig alertmanager;
    QString region; // alerts: only this region's; silence create: the region silenced
    qint64 forSeconds = 0; // silence create
    QString reason;
    QString operation; // the operation the silence belongs to, in its comment
    QString createdBy;
    bool yes = false;
    bool json = false;
    int timeoutSeconds = 60;
};

// fleetctl alerts | silence create | silence list | silence expire ID against Alertmanager's API v2
// (docs/fleetctl.md). `args` starts with "alerts" or "silence". Exit 0 done, 2 bad usage, 3 refused or not
// confirmed, 5 unreachable or no answer (a create whose outcome is unknown says so; it is looked up, never sent
// again on a guess).
int runAlerts(const QStringList &args, const AlertOptions &options);

} // namespace fleet::ctl
