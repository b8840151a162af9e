"""Where an encoding's fixed tensors live: one copy per device, and what "the same device" means.

The student's encodings (:class:`~skdistill.students._encoding_module.NumericEncoding`,
:class:`~skdistill.students._table_encoding.TableEncoding`) hold buffers only.
Training and prediction ask for them on the student's device many times over;
:class:`MovesOnce` answers with the module itself where it already is, else a
copy made once and kept (not pickled).
"""

import copy

import torch

__all__ = ["MovesOnce", "same_device"]


class MovesOnce:
    """``on(device)`` for a module of buffers: itself on its own device, else a copy made once."""

    def on(self, device):
        device = torch.device(device)
        own = [tensor for tensor in self._buffers.values() if tensor is not None]
        first = own[0] if own else next(self.buffers())  # its own buffers first: cheaper
        if same_device(first.device, device):
            return self
        copies = self.__dict__.setdefault("_copies", {})
        if device not in copies:
            copies[device] = copy.deepcopy(self).to(device)
        return copies[device]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_copies", None)  # copies on other devices are made again where needed
        return state


def same_device(where, device):
    """Whether a tensor ``where`` it is sits on ``device`` ("cuda" is the current GPU).

    Examples
    --------
    >>> same_device(torch.device("cpu"), torch.device("cpu"))
    True
    >>> same_device(torch.device("cpu"), torch.device("cuda"))
    False
    """
    if where.type != device.type:
        return False
    if device.index is None:
        return where.type == "cpu" or where.index == torch.cuda.current_device()
    return where.index == device.index
