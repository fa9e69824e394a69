#include "workertable.h"

#include "fleetstore.h"
#include "theme.h"
#include "workermodel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimeZone>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

namespace fleet {

namespace {

// Formats the model's raw values for people: units, UTC times, "unknown: X" for values this console does not know.
class WorkerCellDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        const Theme &theme = Theme::current();
        auto tr = [](const char *s) { return QCoreApplication::translate("fleet::WorkerTable", s); };
        const QVariant v = index.data(Qt::DisplayRole);
        switch (WorkerModel::Column(index.column())) {
        case WorkerModel::StateColumn: {
            const WorkerState state = WorkerState(index.data(WorkerModel::StateRole).toInt());
            if (state == WorkerState::Unknown) {
                option->text = tr("unknown: %1").arg(v.toString());
            } else if (state == WorkerState::Offline) {
                const QString why = index.data(WorkerModel::OfflineReasonRole).toString();
                option->text = why.isEmpty() ? v.toString() : tr("offline (%1)").arg(why);
                option->palette.setColor(QPalette::Text, theme.down);
            } else if (state == WorkerState::Draining || state == WorkerState::Provisioning) {
                option->palette.setColor(QPalette::Text, theme.degraded);
            }
            break;
        }
        case WorkerModel::ArchColumn:
            if (Arch(index.data(WorkerModel::ArchRole).toInt()) == Arch::Unknown)
                option->text = tr("unknown: %1").arg(v.toString());
            break;
        case WorkerModel::BuildColumn:
            if (v.toString().isEmpty())
                option->text = QStringLiteral("—");
            break;
        case WorkerModel::RttColumn:
            option->text = tr("%1 ms").arg(v.toDouble(), 0, 'f', 0);
            option->displayAlignment = Qt::AlignRight | Qt::AlignVCenter;
            break;
        case WorkerModel::PacketLossColumn: {
            const double loss = v.toDouble();
            option->text = tr("%1 %").arg(loss * 100, 0, 'f', 1);
            option->displayAlignment = Qt::AlignRight | Qt::AlignVCenter;
            if (loss >= 0.05)
                option->palette.setColor(QPalette::Text, theme.degraded);
            break;
        }
        case WorkerModel::FailuresColumn: {
            const int total = v.toInt();
            const int timeouts = index.data(WorkerModel::RecentTimeoutsRole).toInt();
            option->text = timeouts ? tr("%1 (%2 ETIMEDOUT)").arg(total).arg(timeouts) : QString::number(total);
            option->displayAlignment = Qt::AlignRight | Qt::AlignVCenter;
            break;
        }
        case WorkerModel::HeartbeatColumn:
        case WorkerModel::StartedColumn: {
            const qint64 ms = v.toLongLong();
            option->text = ms
                ? QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc()).toString(QStringLiteral("MM-dd HH:mm:ss"))
                : QStringLiteral("—");
            break;
        }
        default:
            break;
        }
        // A quiet worker's figures are as of its last heartbeat the fleet sent: past 90 s they are marked as old
        // (italic, and the heartbeat says how old) rather than passed off as current.
        const qint64 age = index.data(WorkerModel::TelemetryAgeRole).toLongLong();
        if (age > WorkerModel::kOldTelemetryMs) {
            switch (WorkerModel::Column(index.column())) {
            case WorkerModel::HeartbeatColumn:
                option->text += tr(" (%1 min old)").arg(age / 60000);
                option->palette.setColor(QPalette::Text, theme.degraded);
                [[fallthrough]];
            case WorkerModel::RttColumn:
            case WorkerModel::PacketLossColumn:
            case WorkerModel::FailuresColumn:
                option->font.setItalic(true);
                break;
            default:
                break;
            }
        }
    }
};

} // namespace

WorkerTable::WorkerTable(WorkerModel *model, FleetStore *store, QWidget *parent)
    : QWidget(parent)
    , m_store(store)
    , m_filter(new WorkerFilterModel(this))
    , m_view(new QTableView(this))
    , m_region(new QComboBox(this))
    , m_state(new QComboBox(this))
    , m_arch(new QComboBox(this))
    , m_text(new QLineEdit(this))
    , m_count(new QLabel(this))
{
    m_filter->setSourceModel(model);
    m_view->setModel(m_filter);
    m_view->setItemDelegate(new WorkerCellDelegate(m_view));
    // The rows' age on the fleet's clock moves without a change to the rows: repaint what is in view each second.
    auto *repaint = new QTimer(this);
    repaint->setInterval(1000);
    connect(repaint, &QTimer::timeout, m_view->viewport(), qOverload<>(&QWidget::update));
    repaint->start();
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(WorkerModel::IdColumn, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->setAccessibleName(tr("Workers"));
    const QList<QPair<int, int>> widths { { WorkerModel::IdColumn, 150 }, { WorkerModel::NameColumn, 170 },
        { WorkerModel::RegionColumn, 100 }, { WorkerModel::ArchColumn, 70 }, { WorkerModel::StateColumn, 150 },
        { WorkerModel::BuildColumn, 110 }, { WorkerModel::RttColumn, 70 }, { WorkerModel::PacketLossColumn, 70 },
        { WorkerModel::FailuresColumn, 130 }, { WorkerModel::HeartbeatColumn, 190 } };
    for (const auto &[column, width] : widths)
        m_view->setColumnWidth(column, width);

    m_region->setAccessibleName(tr("Filter by region"));
    m_state->setAccessibleName(tr("Filter by state"));
    m_arch->setAccessibleName(tr("Filter by architecture"));
    m_text->setAccessibleName(tr("Search workers"));
    m_text->setPlaceholderText(tr("Search id, name or build (Ctrl+F)"));
    m_text->setClearButtonEnabled(true);
    m_state->addItem(tr("Any state"), -1);
    for (int s = 0; s < kWorkerStateCount; ++s)
        m_state->addItem(wireName(WorkerState(s)).toString(), s);
    m_arch->addItem(tr("Any arch"), -1);
    for (int a = 0; a < kArchCount; ++a)
        m_arch->addItem(wireName(Arch(a)).toString(), a);
    refillRegions();

    connect(m_region, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setRegion(m_region->currentData().toString());
        updateCount();
    });
    connect(m_state, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setState(m_state->currentData().toInt());
        updateCount();
    });
    connect(m_arch, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setArch(m_arch->currentData().toInt());
        updateCount();
    });
    connect(m_text, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_filter->setText(text);
        updateCount();
    });
    connect(m_view, &QTableView::customContextMenuRequested, this, &WorkerTable::showContextMenu);
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, &WorkerTable::updateCount);
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, &WorkerTable::updateCount);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &WorkerTable::updateCount);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, &WorkerTable::updateCount);
    if (store) {
        connect(store->regionTable(), &EntityTable::reset, this, &WorkerTable::refillRegions);
        connect(store, &FleetStore::regionsPreviewApplied, this, &WorkerTable::updateCount);
        connect(store, &FleetStore::snapshotApplied, this, &WorkerTable::updateCount);
    }

    auto *copy = new QAction(tr("Copy worker ID"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &WorkerTable::copySelectedIds);
    m_view->addAction(copy);

    auto *filters = new QHBoxLayout;
    filters->setContentsMargins(4, 4, 4, 0);
    filters->addWidget(m_text, 2);
    filters->addWidget(m_region, 1);
    filters->addWidget(m_state, 1);
    filters->addWidget(m_arch, 1);
    filters->addWidget(m_count);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addLayout(filters);
    layout->addWidget(m_view, 1);
    updateCount();
}

void WorkerTable::refillRegions()
{
    const QString current = m_region->currentData().toString();
    const QSignalBlocker block(m_region);
    m_region->clear();
    m_region->addItem(tr("All regions"), QString());
    if (m_store) {
        for (const Region &r : m_store->regions())
            m_region->addItem(r.id, r.id); // the id: names are free text from the server, ids are short
    }
    const int i = m_region->findData(current);
    m_region->setCurrentIndex(i < 0 ? 0 : i);
}

void WorkerTable::setRegionFilter(const QString &region)
{
    int i = m_region->findData(region);
    if (i < 0 && !region.isEmpty()) {
        m_region->addItem(region, region);
        i = m_region->count() - 1;
    }
    m_region->setCurrentIndex(std::max(0, i));
}

QString WorkerTable::regionFilter() const
{
    return m_region->currentData().toString();
}

void WorkerTable::focusSearch()
{
    m_text->setFocus(Qt::ShortcutFocusReason);
    m_text->selectAll();
}

QStringList WorkerTable::selectedWorkerIds() const
{
    QStringList ids;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(WorkerModel::IdColumn);
    for (const QModelIndex &i : rows)
        ids << i.data(WorkerModel::IdRole).toString();
    if (ids.isEmpty() && m_view->currentIndex().isValid())
        ids << m_view->currentIndex().data(WorkerModel::IdRole).toString();
    return ids;
}

void WorkerTable::copySelectedIds()
{
    const QStringList ids = selectedWorkerIds();
    if (ids.isEmpty())
        return;
    QGuiApplication::clipboard()->setText(ids.join(QLatin1Char('\n')));
    Q_EMIT message(ids.size() == 1 ? tr("Copied worker ID %1").arg(ids.first())
                                   : tr("Copied %n worker IDs", nullptr, int(ids.size())));
}

void WorkerTable::updateCount()
{
    const int total = m_filter->sourceModel() ? m_filter->sourceModel()->rowCount() : 0;
    if (m_store && !m_store->isLoaded() && !m_store->regions().empty())
        m_count->setText(tr("loading workers…")); // the regions preview is in, the snapshot not yet
    else
        m_count->setText(tr("%1 of %2").arg(m_filter->rowCount()).arg(total));
}

void WorkerTable::showContextMenu(const QPoint &pos)
{
    const QModelIndex at = m_view->indexAt(pos);
    if (!at.isValid())
        return;
    if (!m_view->selectionModel()->isRowSelected(at.row(), at.parent()))
        m_view->selectRow(at.row());
    const QStringList ids = selectedWorkerIds();
    const QString region = at.siblingAtColumn(WorkerModel::RegionColumn).data(WorkerModel::RegionRole).toString();
    QMenu menu(this);
    QAction *copy
        = menu.addAction(ids.size() == 1 ? tr("Copy worker ID") : tr("Copy %n worker IDs", nullptr, int(ids.size())));
    QAction *copyName = menu.addAction(tr("Copy name"));
    copyName->setEnabled(ids.size() == 1);
    QAction *showRegion = menu.addAction(tr("Show region %1").arg(region));
    menu.addSeparator();
    Q_EMIT contextMenuAboutToShow(&menu, ids); // failover actions plug in here
    QAction *chosen = menu.exec(m_view->viewport()->mapToGlobal(pos));
    if (chosen == copy) {
        copySelectedIds();
    } else if (chosen == copyName) {
        const QString name = at.siblingAtColumn(WorkerModel::NameColumn).data(WorkerModel::NameRole).toString();
        QGuiApplication::clipboard()->setText(name);
        Q_EMIT message(tr("Copied worker name"));
    } else if (chosen == showRegion) {
        Q_EMIT regionRequested(region);
    }
}

} // namespace fleet
