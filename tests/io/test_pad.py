"""pad_to_multiple / crop are inverse at any size, and pad the way they say."""

from __future__ import annotations

import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import crop, pad_to_multiple


@pytest.mark.parametrize("shape", [(5, 7), (3, 5, 7), (2, 3, 4, 17, 9), (1, 16, 16)])
@pytest.mark.parametrize("mode", ["replicate", "constant"])
def test_pad_crop_inverse(shape, mode):
    x = torch.rand(shape)
    y, size = pad_to_multiple(x, 8, mode=mode)
    assert size == shape[-2:]
    assert y.shape[:-2] == x.shape[:-2]
    assert y.shape[-2] % 8 == 0 and y.shape[-1] % 8 == 0
    assert y.shape[-2] - shape[-2] < 8 and y.shape[-1] - shape[-1] < 8
    assert torch.equal(crop(y, size), x)


def test_pad_values():
    x = torch.arange(6.0).view(1, 2, 3)
    rep, _ = pad_to_multiple(x, (4, 4))
    assert rep.tolist() == [[[0, 1, 2, 2], [3, 4, 5, 5], [3, 4, 5, 5], [3, 4, 5, 5]]]
    const, _ = pad_to_multiple(x, (1, 4), mode="constant", value=-1.0)
    assert const.tolist() == [[[0, 1, 2, -1], [3, 4, 5, -1]]]
    same, size = pad_to_multiple(x, 1)
    assert same is x and size == (2, 3)


def test_pad_crop_errors():
    with pytest.raises(InputError):
        pad_to_multiple(torch.rand(4, 4), 0)
    with pytest.raises(InputError):
        pad_to_multiple(torch.rand(4, 4), 8, mode="reflect")
    with pytest.raises(InputError):
        crop(torch.rand(4, 4), (5, 4))
