"""Registry scope set-up, as in ``mmaction.utils.register_all_modules``."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every ``spact_mm`` module so it registers, and set the default scope.

    Args:
        init_default_scope: Whether to make ``spact_mm`` the default scope, so
            that configs without ``default_scope`` still resolve our types.
    """
    import spact_mm  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('spact_mm'):
        if current is not None and current.scope_name != 'spact_mm':
            warnings.warn(f'The current default scope "{current.scope_name}" is not '
                          '"spact_mm"; a new default scope "spact_mm" is created.', stacklevel=2)
            name = f'spact_mm-{datetime.datetime.now()}'
            DefaultScope.get_instance(name, scope_name='spact_mm')
        elif current is None:
            DefaultScope.get_instance('spact_mm', scope_name='spact_mm')
