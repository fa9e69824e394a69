#pragma once

#include <QList>
#include <QPair>
#include <QPointer>
#include <QWidget>

namespace fleet {

class ActionRegistry;

// The "?" overlay: every keyboard shortcut of the window, drawn over it, read from the window's ActionRegistry each
// time it opens (a disabled action says why); any key or click closes it.
class ShortcutsOverlay : public QWidget
{
    Q_OBJECT

public:
    explicit ShortcutsOverlay(QWidget *parent);

    void setRegistry(ActionRegistry *registry);
    void reload(); // reads the registry again
    const QList<QPair<QString, QString>> &shortcuts() const { return m_items; }
    void toggle();

protected:
    void paintEvent(QPaintEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void setShortcuts(const QList<QPair<QString, QString>> &keysAndWhat);

    QPointer<ActionRegistry> m_registry;
    QList<QPair<QString, QString>> m_items;
};

} // namespace fleet
