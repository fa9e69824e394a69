#pragma once

#include "statuspage.h"

#include <QMap>
#include <QStringList>

namespace fleet::ctl {

struct IncidentOptions
{
    StatusPageConfig page;
    QString storePath; // the local store whose outbox is used (shared with the console)
    bool json = false;
    int timeoutSeconds = 60;
    QString name;
    QString status;
    QString body;
    QStringList components; // "ID=STATUS" or "NAME=STATUS"
    QString impact;
    int notify = -1; // -1 not said, 0 --no-notify, 1 --notify
    QString file; // postmortem Markdown
    bool publish = false;
    bool send = false; // outbox --send
};

// fleetctl incident open|update|resolve|list|postmortem|outbox: the status page, through the same durable outbox
// as the console. `args` starts with "incident". Exit codes as the other commands (docs/fleetctl.md).
int runIncident(const QStringList &args, const IncidentOptions &options);

} // namespace fleet::ctl
