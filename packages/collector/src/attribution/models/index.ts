import type { ModelName } from '../types.js'
import { firstTouch } from './first_touch.js'
import { fullPath } from './full_path.js'
import { lastTouch } from './last_touch.js'
import { linear } from './linear.js'
import { markov } from './markov.js'
import type { Model } from './model.js'
import { positionBased } from './position_based.js'
import { shapley } from './shapley.js'
import { timeDecay } from './time_decay.js'
import { wShaped } from './w_shaped.js'

export const MODEL_FUNCTIONS: Record<ModelName, Model> = {
  first_touch: firstTouch,
  last_touch: lastTouch,
  linear,
  time_decay: timeDecay,
  position_based: positionBased,
  w_shaped: wShaped,
  full_path: fullPath,
  markov,
  shapley,
}

export type { Model, ModelInput, Credit } from './model.js'
